"""SLA policy settings (issue 23): /api/v1/sla-policies/ and /inbox/settings/sla/, through
routing.sla_settings; the preview is the live clock's own due time."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils.dateparse import parse_datetime

from inbox.intake.receive import receive_message
from inbox.normalized import NormalizedMessage, SenderRef
from routing.models import BusinessHours, SLAPolicy, TeamPolicy
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/sla-policies/"
# Friday 27 Nov 2026, 16:30 in Jakarta (UTC+7): 30 open minutes left before the weekend.
FRIDAY_LATE = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
BODY = {
    "name": "Normal mail",
    "severity": "normal",
    "first_response_minutes": 120,
    "next_response_minutes": 240,
    "resolution_minutes": 1440,
}


@pytest.fixture
def jakarta(team):
    SLAPolicy.objects.all().delete()
    calendar = BusinessHours.objects.create(
        name="Jakarta",
        timezone="Asia/Jakarta",
        weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
        holidays=["2026-11-30"],  # the Monday after
    )
    TeamPolicy.objects.create(team=team, business_hours=calendar)
    return calendar


def customer_writes(channel):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind="email",
            external_id="<m1@x>",
            thread_key=None,
            sender=SenderRef(
                kind="email", id="ann@example.com", email="ann@example.com", verified=True
            ),
            text="Help please",
            html=None,
            attachments=(),
            sent_at=dt.datetime.now(dt.UTC),
            subject="Help",
            references=(),
            auto_kind="",
        ),
    ).conversation


def test_the_preview_is_the_due_time_the_clock_gives(client_for, admin_user, team, jakarta):
    channel = ChannelFactory(slug="mail", default_team=team)
    created = client_for(admin_user).post(
        URL, {**BODY, "team": "support", "business_hours_only": True}, format="json"
    )
    assert created.status_code == 201, created.content
    with time_machine.travel(FRIDAY_LATE, tick=False):
        preview = client_for(admin_user).get(f"{URL}{created.json()['id']}/preview/").json()
        conversation = customer_writes(channel)
    conversation.refresh_from_db()
    due = parse_datetime(preview["first_response_due"])
    assert due == conversation.first_response_due
    # 30 minutes on Friday, the Monday holiday skipped, 90 minutes on Tuesday: 10:30 Jakarta
    assert due == dt.datetime(2026, 12, 1, 3, 30, tzinfo=dt.UTC)
    assert preview["calendar"] == "Jakarta" and preview["timezone"] == "Asia/Jakarta"


def test_an_unsaved_policy_can_be_previewed(client_for, admin_user, jakarta):
    with time_machine.travel(FRIDAY_LATE, tick=False):
        around = client_for(admin_user).post(f"{URL}preview/", BODY, format="json")
    assert around.status_code == 200
    assert parse_datetime(around.json()["first_response_due"]) == FRIDAY_LATE + dt.timedelta(
        hours=2
    )
    assert not SLAPolicy.objects.exists()


def test_edit_and_deactivate(client_for, admin_user):
    pk = client_for(admin_user).post(URL, BODY, format="json").json()["id"]
    edited = client_for(admin_user).patch(
        f"{URL}{pk}/", {"first_response_minutes": 30, "is_active": False}, format="json"
    )
    assert edited.status_code == 200
    policy = SLAPolicy.objects.get(pk=pk)
    assert (policy.first_response_minutes, policy.is_active) == (30, False)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": "urgent"}, "severity"),
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": "soon"}, "resolution_minutes"),
        ({"warning_percent": 150}, "warning_percent"),
        ({"name": ""}, "name"),
        ({"team": "nope"}, "team"),
        ({"business_hours": 999999}, "business_hours"),
    ],
)
def test_bad_policies_are_refused_with_the_field(client_for, admin_user, change, field):
    SLAPolicy.objects.all().delete()
    response = client_for(admin_user).post(URL, {**BODY, **change}, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not SLAPolicy.objects.exists()


def test_agents_are_refused(client_for, agent):
    policy = SLAPolicy.objects.create(
        name="P",
        severity=2,
        first_response_minutes=1,
        next_response_minutes=1,
        resolution_minutes=1,
    )
    client = client_for(agent)
    assert client.get(URL).status_code == 403
    assert client.post(URL, BODY, format="json").status_code == 403
    assert (
        client.patch(f"{URL}{policy.pk}/", {"is_active": False}, format="json").status_code == 403
    )
    assert client.get(f"{URL}{policy.pk}/preview/").status_code == 403
    page = Client()
    page.force_login(agent)
    assert page.get("/inbox/settings/sla/").status_code == 403


def test_the_page_previews_saves_and_deactivates(admin_user, team, jakarta):
    client = Client()
    client.force_login(admin_user)
    form = {
        "name": "Support normal",
        "severity": "2",
        "team": str(team.pk),
        "first_response_minutes": "120",
        "next_response_minutes": "240",
        "resolution_minutes": "1440",
        "warning_percent": "80",
        "business_hours_only": "1",
        "is_active": "1",
    }
    with time_machine.travel(FRIDAY_LATE, tick=False):
        shown = client.post("/inbox/settings/sla/", {**form, "preview": "1"})
    text = shown.content.decode()
    assert shown.status_code == 200 and not SLAPolicy.objects.exists()
    assert "Tue 1 Dec 2026, 10:30 (Asia/Jakarta)" in text
    assert client.post("/inbox/settings/sla/", form).status_code == 302
    policy = SLAPolicy.objects.get()
    with time_machine.travel(FRIDAY_LATE, tick=False):
        edit_page = client.get(f"/inbox/settings/sla/{policy.pk}/").content.decode()
    assert "would be due" in edit_page and "Tue 1 Dec 2026, 10:30 (Asia/Jakarta)" in edit_page
    bad = client.post(f"/inbox/settings/sla/{policy.pk}/", {**form, "first_response_minutes": "0"})
    assert bad.status_code == 400 and "first_response_minutes" in bad.content.decode()
    assert (
        client.post(f"/inbox/settings/sla/{policy.pk}/active/", {"active": "0"}).status_code == 302
    )
    policy.refresh_from_db()
    assert not policy.is_active
