"""NPS and CES beside CSAT (issue 24, part 4): the survey a team or channel chooses goes out after
resolution, is answered once on the real page in its own scale, at most one survey per customer
per SURVEY_MIN_INTERVAL_DAYS, and the NPS and CES reports count the answers (JSON, CSV, page)."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from rest_framework.test import APIClient

from inbox.models import Event, Message
from inbox.services import set_status
from reports.models import SatisfactionSurvey
from reports.rollups import rebuild
from reports.services import send_due_surveys
from tagging.models import ConversationTag, Tag
from tests.accounts.factories import AdminFactory, AgentFactory
from tests.inbox.factories import ContactFactory, ConversationFactory
from tests.reports.scenario import Week, at, customer_writes, survey_token, undo_window_passes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    settings.REPORTS_TIME_ZONE = "UTC"
    settings.SURVEY_MIN_INTERVAL_DAYS = 7
    return Week()


def resolved(world, channel, key, *, sender, when):
    """A customer writes, the lead resolves an hour later, the undo window passes."""
    with time_machine.travel(when, tick=False):
        conversation = customer_writes(channel, key, sender=sender)
    done = when + dt.timedelta(hours=1)
    with time_machine.travel(done, tick=False):
        set_status(conversation_id=conversation.pk, status="resolved", actor=world.lead)
    undo_window_passes(conversation, done)
    return conversation


def test_a_team_choosing_nps_gets_an_nps_survey_answered_once_on_the_page(world, client):
    world.support.survey_kind = "nps"
    world.support.save()
    conversation = resolved(world, world.mail, "n1", sender="ann@example.com", when=at(16, 8))
    survey = SatisfactionSurvey.objects.get(conversation=conversation)
    assert survey.kind == "nps"
    link = Message.objects.get(conversation=conversation, direction="out").text
    assert "recommend us to a friend or colleague" in link
    assert "Answer from 0 to 10" in link
    # The channel's own text belongs to the channel's CSAT survey, not to the team's NPS one.
    assert "Thanks for writing to us." not in link

    url = f"/survey/{survey_token(conversation)}/"
    page = client.get(url + "?score=0")
    assert page.status_code == 200
    body = page.content.decode()
    assert "How likely are you to recommend us to a friend or colleague?" in body
    assert [f'value="{n}"' in body for n in range(11)] == [True] * 11
    assert 'value="0" required checked' in body
    assert client.post(url, {"score": "11"}).status_code == 400
    answered = client.post(url, {"score": "9", "comment": "Would tell my sister"})
    assert answered.status_code == 200
    assert "Your answer (9/10) has been recorded" in answered.content.decode()
    again = client.post(url, {"score": "2"})
    assert again.status_code == 409
    assert b"already been answered, so this answer was not recorded" in again.content
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (9, "Would tell my sister")
    assert [e.payload["kind"] for e in Event.objects.filter(type="survey.answered")] == ["nps"]
    assert not Event.objects.filter(type="csat.answered").exists()

    api = APIClient()
    api.force_authenticate(world.alice)
    detail = api.get(f"/api/v1/conversations/{conversation.pk}/").json()["satisfaction"]
    assert (detail["kind"], detail["score"]) == ("nps", 9)
    client.force_login(world.alice)
    assert (
        b"Recommendation score 9 of 10"
        in client.get(f"/inbox/conversations/{conversation.pk}/").content
    )


def test_an_admin_chooses_the_teams_survey_on_the_teams_page_and_it_follows(world, client):
    admin = AdminFactory(username="ada")
    client.force_login(admin)
    page = client.get("/inbox/settings/teams/").content.decode()
    assert "Survey after resolving" in page and "NPS (likely to recommend, 0-10)" in page
    saved = client.post(
        f"/inbox/settings/teams/{world.support.pk}/",
        {"name": "Support", "survey_kind": "nps"},
    )
    assert saved.status_code == 302
    conversation = resolved(world, world.mail, "p1", sender="pia@example.com", when=at(16, 8))
    assert SatisfactionSurvey.objects.get(conversation=conversation).kind == "nps"

    refused = client.post(
        f"/inbox/settings/teams/{world.support.pk}/", {"name": "Support", "survey_kind": "stars"}
    )
    assert refused.status_code == 400 and "Choose one of: csat, nps, ces." in (
        refused.content.decode()
    )
    world.support.refresh_from_db()
    assert world.support.survey_kind == "nps"  # the refused choice changed nothing


def test_the_teams_survey_through_the_api(world):
    api = APIClient()
    api.force_authenticate(AdminFactory(username="ada"))
    url = f"/api/v1/teams/{world.sales.pk}/"
    changed = api.patch(url, {"survey_kind": "ces"}, format="json")
    assert changed.status_code == 200 and changed.json()["survey_kind"] == "ces"
    assert changed.json()["name"] == "Sales"  # a PATCH without a name keeps it
    bad = api.patch(url, {"survey_kind": "stars"}, format="json")
    assert bad.status_code == 400 and "survey_kind" in bad.json()
    api.force_authenticate(world.alice)
    assert api.patch(url, {"survey_kind": "nps"}, format="json").status_code == 403
    world.sales.refresh_from_db()
    assert world.sales.survey_kind == "ces"


def test_a_channel_choosing_ces_gets_a_ces_survey_in_its_own_scale(world, client):
    world.sales_mail.config = {"csat": {"enabled": True, "kind": "ces", "text": "Was it easy?"}}
    world.sales_mail.save()
    conversation = resolved(world, world.sales_mail, "e1", sender="eve@example.com", when=at(16, 8))
    survey = SatisfactionSurvey.objects.get(conversation=conversation)
    assert survey.kind == "ces"
    assert Message.objects.get(conversation=conversation, direction="out").text.startswith(
        "Was it easy?\n\nAnswer from 1 to 7"
    )
    url = f"/survey/{survey_token(conversation)}/"
    page = client.get(url).content.decode()
    assert "How easy was it to get your issue resolved?" in page
    assert 'value="7"' in page and 'value="8"' not in page and 'value="0"' not in page
    refused = client.post(url, {"score": "0", "comment": "keep me"})
    assert refused.status_code == 400
    assert (
        b"Please choose a score from 1 to 7." in refused.content and b"keep me" in refused.content
    )
    assert client.post(url, {"score": "6"}).status_code == 200
    assert client.post(url, {"score": "1"}).status_code == 409
    assert SatisfactionSurvey.objects.get(pk=survey.pk).score == 6


def test_the_team_choice_overrides_the_channel_choice(world):
    world.mail.config = {"csat": {"enabled": True, "kind": "ces"}}
    world.mail.save()
    world.support.survey_kind = "nps"
    world.support.save()
    first = resolved(world, world.mail, "t1", sender="ann@example.com", when=at(16, 8))
    assert SatisfactionSurvey.objects.get(conversation=first).kind == "nps"
    world.support.survey_kind = ""  # blank: the channel's choice
    world.support.save()
    second = resolved(world, world.mail, "t2", sender="bea@example.com", when=at(16, 9))
    assert SatisfactionSurvey.objects.get(conversation=second).kind == "ces"
    # A team's choice does not switch surveys on where the channel has them off.
    world.mail.config = {}
    world.mail.save()
    world.support.survey_kind = "nps"
    world.support.save()
    third = resolved(world, world.mail, "t3", sender="cid@example.com", when=at(16, 10))
    assert not SatisfactionSurvey.objects.filter(conversation=third).exists()


def test_one_survey_per_customer_per_seven_days_across_kinds(world, settings):
    world.sales.survey_kind = "nps"
    world.sales.save()
    first = resolved(world, world.sales_mail, "r1", sender="ann@example.com", when=at(2, 8))
    assert SatisfactionSurvey.objects.get(conversation=first).kind == "nps"
    # Three days later, another channel and kind (CSAT): not sent, by the countdown nor the sweep.
    second = resolved(world, world.mail, "r2", sender="ann@example.com", when=at(5, 8))
    with time_machine.travel(at(5, 9, 1), tick=False):
        assert send_due_surveys() == 0
    assert not SatisfactionSurvey.objects.filter(conversation=second).exists()
    assert not Message.objects.filter(conversation=second, text__contains="/survey/").exists()
    # Another customer on the same day is asked.
    other = resolved(world, world.mail, "r3", sender="bea@example.com", when=at(5, 8))
    assert SatisfactionSurvey.objects.filter(conversation=other).exists()
    # Seven days and more after the first survey: asked again.
    third = resolved(world, world.mail, "r4", sender="ann@example.com", when=at(9, 9))
    assert SatisfactionSurvey.objects.get(conversation=third).kind == "csat"
    # The interval is a setting; 0 lifts the limit.
    settings.SURVEY_MIN_INTERVAL_DAYS = 0
    fourth = resolved(world, world.mail, "r5", sender="ann@example.com", when=at(10, 9))
    assert SatisfactionSurvey.objects.filter(conversation=fourth).exists()
    assert SatisfactionSurvey.objects.filter(contact=first.contact).count() == 3


def test_the_survey_speaks_the_customers_language(world, client):
    unknown = resolved(world, world.mail, "l1", sender="ann@example.com", when=at(10, 8))
    unknown.contact.attributes = {"language": "id"}
    unknown.contact.save()
    other = resolved(world, world.mail, "l2", sender="bea@example.com", when=at(10, 9))
    other.contact.attributes = {"language": "tlh"}  # not a language the deployment serves
    other.contact.save()
    known = resolved(world, world.mail, "l3", sender="ann@example.com", when=at(18, 9))
    unserved = resolved(world, world.mail, "l4", sender="bea@example.com", when=at(18, 9))
    assert SatisfactionSurvey.objects.get(conversation=known).language == "id"
    assert SatisfactionSurvey.objects.get(conversation=unserved).language == ""
    assert SatisfactionSurvey.objects.get(conversation=unknown).language == ""
    # Known when it was sent: the page speaks it, whatever the browser asks for.
    page = client.get(f"/survey/{survey_token(known)}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "id" and 'lang="id"' in page.content.decode()
    # Not known when it was sent: the customer's browser decides.
    page = client.get(f"/survey/{survey_token(unknown)}/", HTTP_ACCEPT_LANGUAGE="id")
    assert page["Content-Language"] == "id"
    assert "Accept-Language" in page["Vary"]
    # A browser asking only for languages we do not serve: the channel's customers' language.
    page = client.get(f"/survey/{survey_token(unserved)}/", HTTP_ACCEPT_LANGUAGE="de, fr;q=0.5")
    assert page["Content-Language"] == "en"  # the channel has none: the site's
    world.mail.config = {**world.mail.config, "language": "id"}
    world.mail.save()
    page = client.get(f"/survey/{survey_token(unserved)}/", HTTP_ACCEPT_LANGUAGE="de, fr;q=0.5")
    assert page["Content-Language"] == "id"


# --- the figures ----------------------------------------------------------------------------------


def answer(kind, score, *, team, channel, agent=None, tags=(), when=None, contact=None, comment=""):
    when = when or at(17, 12)
    conversation = ConversationFactory(
        channel=channel,
        team=team,
        assignee=agent,
        contact=contact or ContactFactory(),
        created_at=when - dt.timedelta(hours=2),
    )
    for tag in tags:
        ConversationTag.objects.create(conversation=conversation, tag=tag)
    return SatisfactionSurvey.objects.create(
        conversation=conversation,
        channel=channel,
        contact=conversation.contact,
        token_hash=f"{kind}-{conversation.pk}",
        kind=kind,
        sent_at=when - dt.timedelta(hours=1),
        score=score,
        comment=comment,
        answered_at=when if score is not None else None,
    )


@pytest.fixture
def answers(world):
    """NPS: support 10, 10, 9, 8, 6 (alice; 3 promoters, 1 passive, 1 detractor: +40) in the week
    of 11-16; sales 3, 7 (bob, the week of 11-23: 0 promoters, 1 detractor: -50); one NPS survey
    sent and not answered. CES: 7, 6, 6, 2 (average 5.25) in the week of 11-16."""
    vip = Tag.objects.create(slug="vip", name="VIP")
    for score in (10, 10, 9, 8, 6):
        answer("nps", score, team=world.support, channel=world.mail, agent=world.alice, tags=[vip])
    for score, comment in ((3, "Slow"), (7, "")):
        answer(
            "nps",
            score,
            team=world.sales,
            channel=world.sales_mail,
            agent=world.bob,
            when=at(24, 9),
            comment=comment,
        )
    answer("nps", None, team=world.sales, channel=world.sales_mail, when=at(24, 9))
    for score in (7, 6, 6, 2):
        answer("ces", score, team=world.support, channel=world.mail, agent=world.alice)
    answer("csat", 1, team=world.support, channel=world.mail)  # not in either report
    return world


def report(user, name, query="from=2026-11-16&to=2026-11-29"):
    api = APIClient()
    api.force_authenticate(user)
    with time_machine.travel(at(30, 12), tick=False):
        path = name if name.endswith(".csv") else f"{name}/"
        return api.get(f"/api/v1/reports/{path}?{query}")


def test_nps_on_known_answers(answers):
    body = report(answers.lead, "nps").json()
    assert body["filters"]["group_by"] == "week"
    t = body["totals"]
    assert (t["answered"], t["promoters"], t["passives"], t["detractors"]) == (7, 3, 2, 2)
    assert t["nps"] == round(100 * (3 - 2) / 7, 1) == 14.3
    assert (t["sent"], t["answered_of_sent"]) == (8, 7)
    assert t["distribution"] == {
        "0": 0,
        "1": 0,
        "2": 0,
        "3": 1,
        "4": 0,
        "5": 0,
        "6": 1,
        "7": 1,
        "8": 1,
        "9": 1,
        "10": 2,
    }
    assert [(r["period"], r["answered"], r["nps"]) for r in body["rows"]] == [
        ("2026-11-16", 5, 40.0),
        ("2026-11-23", 2, -50.0),
    ]
    by = body["breakdown"]
    assert [(r["name"], r["answered"], r["nps"]) for r in by["team"]] == [
        ("support", 5, 40.0),
        ("sales", 2, -50.0),
    ]
    assert [(r["name"], r["nps"]) for r in by["agent"]] == [("alice", 40.0), ("bob", -50.0)]
    assert [(r["name"], r["nps"]) for r in by["channel"]] == [("mail", 40.0), ("sales-mail", -50.0)]
    assert [(r["name"], r["answered"], r["nps"]) for r in by["tag"]] == [("vip", 5, 40.0)]
    # Filtered to one team, and scoped: bob sees only his team's answers.
    assert (
        report(answers.lead, "nps", "from=2026-11-16&to=2026-11-29&team=sales").json()["totals"][
            "nps"
        ]
        == -50.0
    )
    assert report(answers.bob, "nps").json()["totals"]["answered"] == 2


def test_ces_on_known_answers(answers):
    body = report(answers.lead, "ces", "from=2026-11-16&to=2026-11-22&group_by=day").json()
    t = body["totals"]
    assert (t["answered"], t["average"]) == (4, 5.25)
    assert t["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "6": 2, "7": 1}
    assert [(r["period"], r["answered"], r["average"]) for r in body["rows"] if r["answered"]] == [
        ("2026-11-17", 4, 5.25)
    ]
    assert [(r["name"], r["average"]) for r in body["breakdown"]["agent"]] == [("alice", 5.25)]


def test_no_answers_give_no_score_rather_than_zero(world):
    answer("nps", None, team=world.support, channel=world.mail)
    for name, figure in (("nps", "nps"), ("ces", "average")):
        body = report(world.lead, name).json()
        assert body["totals"][figure] is None
        assert body["totals"]["answered"] == 0
        assert all(r[figure] is None and r["answered"] == 0 for r in body["rows"])
        assert body["breakdown"] == {"team": [], "agent": [], "channel": [], "tag": []}
    assert report(world.lead, "nps").json()["totals"]["sent"] == 1
    assert report(world.lead, "nps").json()["totals"]["response_rate"] == 0.0


def test_nps_and_ces_answers_stay_out_of_csat(answers):
    with time_machine.travel(at(30, 12), tick=False):
        rebuild()
    csat = report(answers.lead, "csat").json()["totals"]
    assert (csat["answered"], csat["average_score"]) == (1, 1.0)
    assert report(answers.lead, "csat/comments").json()["count"] == 0


def test_the_csv_has_periods_and_every_breakdown(answers):
    response = report(answers.lead, "nps/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "grouping",
        "key",
        "sent",
        "answered",
        "promoters",
        "passives",
        "detractors",
        "nps",
    ]
    assert ["period", "2026-11-16", "5", "5", "3", "1", "1", "40.0"] in rows
    assert ["period", "2026-11-23", "3", "2", "0", "1", "1", "-50.0"] in rows
    assert ["team", "sales", "", "2", "0", "1", "1", "-50.0"] in rows
    assert ["agent", "alice", "", "5", "3", "1", "1", "40.0"] in rows
    assert ["tag", "vip", "", "5", "3", "1", "1", "40.0"] in rows
    ces = list(csv.reader(io.StringIO(report(answers.lead, "ces/export.csv").content.decode())))
    assert ces[0][-7:] == [f"score_{n}" for n in range(1, 8)]
    assert ["channel", "mail", "", "4", "5.25", "0", "1", "0", "0", "0", "2", "1"] in ces


def test_the_reports_page_shows_nps_and_ces_beside_csat(answers, client):
    client.force_login(answers.lead)
    with time_machine.travel(at(30, 12), tick=False):
        page = client.get("/reports/?from=2026-11-16&to=2026-11-29").content.decode()
    csat, nps, ces = (page.index(f'id="report-{n}"') for n in ("csat", "nps", "ces"))
    assert csat < nps < ces
    assert '<dd data-figure="nps">14.3</dd>' in page
    assert '<dd data-figure="average">5.25 / 7</dd>' in page
    assert "/api/v1/reports/nps/export.csv?" in page and "group_by=week" in page


def test_an_agent_outside_the_team_sees_no_scores(answers):
    stranger = AgentFactory(username="zed")
    assert report(stranger, "nps").json()["totals"]["answered"] == 0


def test_the_reports_read_a_fixed_number_of_queries_however_many_answers(
    answers, django_assert_num_queries
):
    from reports import selectors, survey_metrics

    f = selectors.parse_filters({"from": "2026-11-16", "to": "2026-11-29", "group_by": "week"})
    lead = answers.lead
    # Answers per day, surveys sent per day, team and agent, channel, tag; the names of each four.
    with django_assert_num_queries(9):
        survey_metrics.nps(lead, f)
    for score in range(11):
        answer("nps", score, team=answers.sales, channel=answers.mail, agent=answers.alice)
    with django_assert_num_queries(9):
        assert survey_metrics.nps(lead, f)["totals"]["answered"] == 7 + 11
