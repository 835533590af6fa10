"""The satisfaction survey: sent on resolve where the channel asks for it, answered once on a
token-protected public page, shown on the conversation."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from inbox.chat import service as chat
from inbox.models import Activity, Event, Message
from inbox.services import set_status
from reports import services
from reports.models import SatisfactionSurvey
from tests.inbox.factories import ChannelFactory
from tests.reports.scenario import Week, at, customer_writes, survey_token, undo_window_passes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    return Week()


def resolved_conversation(world, channel=None):
    with time_machine.travel(at(16, 8), tick=False):
        conversation = customer_writes(channel or world.mail, "x1", sender="ann@example.com")
    with time_machine.travel(at(16, 9), tick=False):
        set_status(conversation_id=conversation.pk, status="resolved", actor=world.alice)
    undo_window_passes(conversation, at(16, 9))
    return conversation


def test_resolving_sends_one_survey_by_email_with_an_unguessable_link(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = resolved_conversation(world)
    survey = SatisfactionSurvey.objects.get(conversation=conversation)
    token = survey_token(conversation)
    assert len(token) >= 43  # 32 random bytes, base64: 256 bits
    assert survey.token_hash != token and token not in survey.token_hash
    assert services.hash_token(token) == survey.token_hash
    sent = [m for m in mail.outbox if "ann@example.com" in m.to]
    assert sent and f"https://help.example.com/survey/{token}/" in sent[-1].body
    assert Activity.objects.filter(conversation=conversation, verb="csat_sent").count() == 1
    # Reopened and resolved again: not asked twice.
    with time_machine.travel(at(16, 10), tick=False):
        set_status(conversation_id=conversation.pk, status="open", actor=world.alice)
        set_status(conversation_id=conversation.pk, status="resolved", actor=world.alice)
    assert SatisfactionSurvey.objects.filter(conversation=conversation).count() == 1


def test_no_survey_where_the_channel_has_it_off(world):
    world.mail.config = {}
    world.mail.save()
    conversation = resolved_conversation(world)
    assert not SatisfactionSurvey.objects.filter(conversation=conversation).exists()
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


def test_the_survey_message_is_not_an_agent_reply(world):
    conversation = resolved_conversation(world)
    conversation.refresh_from_db()
    assert conversation.first_response_at is None
    message = Message.objects.get(conversation=conversation, direction="out")
    assert message.sender_user_id is None


def test_the_public_page_takes_one_answer_and_refuses_a_second(world, client):
    conversation = resolved_conversation(world)
    url = f"/survey/{survey_token(conversation)}/"
    page = client.get(url + "?score=4")
    assert page.status_code == 200
    assert b"How did we do?" in page.content
    assert re.search(rb'value="4" required checked', page.content)
    answered = client.post(url, {"score": "4", "comment": "Fast, thanks"})
    assert answered.status_code == 200
    assert b"Your answer (4/5) has been recorded" in answered.content
    again = client.post(url, {"score": "1", "comment": "changed my mind"})
    assert again.status_code == 409
    assert b"already been answered" in again.content
    survey = SatisfactionSurvey.objects.get(conversation=conversation)
    assert (survey.score, survey.comment) == (4, "Fast, thanks")
    assert client.get(url).content.count(b"already answered") == 1
    assert Event.objects.filter(type="csat.answered", conversation_id=conversation.pk).count() == 1


def test_a_second_answer_through_the_service_is_refused(world):
    conversation = resolved_conversation(world)
    token = survey_token(conversation)
    services.answer_survey(token=token, score=3)
    with pytest.raises(services.SurveyAlreadyAnswered):
        services.answer_survey(token=token, score=5)
    assert SatisfactionSurvey.objects.get(conversation=conversation).score == 3


def test_a_guessed_token_is_a_404_and_a_bad_score_a_clear_400(world, client):
    conversation = resolved_conversation(world)
    assert client.get("/survey/not-a-real-token/").status_code == 404
    assert client.post("/survey/" + "A" * 43 + "/", {"score": "5"}).status_code == 404
    url = f"/survey/{survey_token(conversation)}/"
    bad = client.post(url, {"score": "9", "comment": "keep me"})
    assert bad.status_code == 400
    assert b"choose a score from 1 to 5" in bad.content
    assert b"keep me" in bad.content
    assert SatisfactionSurvey.objects.get(conversation=conversation).answered_at is None


def test_the_score_shows_on_the_conversation_page(world, client):
    conversation = resolved_conversation(world)
    services.answer_survey(token=survey_token(conversation), score=2, comment="Too slow")
    client.force_login(world.alice)
    page = client.get(f"/inbox/conversations/{conversation.pk}/")
    assert page.status_code == 200
    assert b"Satisfaction score 2 of 5" in page.content
    assert b"Too slow" in page.content


def test_the_score_is_in_the_api_conversation_detail(world):
    from rest_framework.test import APIClient

    conversation = resolved_conversation(world)
    client = APIClient()
    client.force_authenticate(world.alice)
    before = client.get(f"/api/v1/conversations/{conversation.pk}/").json()
    assert before["satisfaction"]["score"] is None
    services.answer_survey(token=survey_token(conversation), score=4, comment="Good")
    after = client.get(f"/api/v1/conversations/{conversation.pk}/").json()
    assert (after["satisfaction"]["score"], after["satisfaction"]["comment"]) == (4, "Good")
    with time_machine.travel(at(16, 10), tick=False):
        other = customer_writes(world.mail, "y1", sender="bo@example.com")
    assert client.get(f"/api/v1/conversations/{other.pk}/").json()["satisfaction"] is None


def test_agents_see_that_the_survey_went_out_and_only_the_customer_gets_the_link(
    world, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = resolved_conversation(world)
    token = survey_token(conversation)
    sent = [m for m in mail.outbox if "ann@example.com" in m.to]
    assert f"https://help.example.com/survey/{token}/" in sent[-1].body

    api = APIClient()
    api.force_authenticate(world.alice)
    response = api.get(f"/api/v1/conversations/{conversation.pk}/messages/")
    survey_message = response.json()[-1]
    assert survey_message["text"] == "Satisfaction survey sent: Thanks for writing to us."
    assert survey_message["folded"]["body"] == survey_message["text"]
    assert token not in response.content.decode()
    client.force_login(world.alice)
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert "Satisfaction survey sent: Thanks for writing to us." in page
    assert token not in page and "/survey/" not in page


def test_a_chat_visitor_gets_the_survey_link_in_the_widget(
    world, django_capture_on_commit_callbacks
):
    chat_channel = ChannelFactory(
        kind="chat", slug="chat", default_team=world.support, config={"csat": {"enabled": True}}
    )
    session = chat.start_session(channel=chat_channel, name="Ann")
    with django_capture_on_commit_callbacks(execute=True):
        chat.post_visitor_message(session=session, text="Where is my order?")
    conversation = Message.objects.get(text="Where is my order?").conversation
    with django_capture_on_commit_callbacks(execute=True):
        set_status(conversation_id=conversation.pk, status="resolved", actor=world.alice)
    assert not Message.objects.filter(conversation=conversation, text__contains="/survey/").exists()
    undo_window_passes(conversation)
    token = survey_token(conversation)
    widget = [m["text"] for m in chat.session_snapshot(session)["messages"]]
    assert any(f"https://help.example.com/survey/{token}/" in text for text in widget)


def _resolve_at(world, conversation, when, status="resolved"):
    with time_machine.travel(when, tick=False):
        set_status(conversation_id=conversation.pk, status=status, actor=world.alice)


def _survey_messages(conversation):
    return Message.objects.filter(conversation=conversation, text__contains="/survey/").count()


def test_the_survey_waits_for_the_undo_window_then_goes_once(world):
    from reports.tasks import send_survey_after_undo

    with time_machine.travel(at(16, 8), tick=False):
        conversation = customer_writes(world.mail, "w1", sender="ann@example.com")
    resolved = at(16, 9)
    _resolve_at(world, conversation, resolved)
    assert _survey_messages(conversation) == 0  # not on resolve
    with time_machine.travel(resolved + dt.timedelta(seconds=4), tick=False):
        assert send_survey_after_undo(conversation.pk) is False  # still inside the window
    assert _survey_messages(conversation) == 0
    with time_machine.travel(resolved + dt.timedelta(seconds=12), tick=False):
        assert send_survey_after_undo(conversation.pk) is True
        assert send_survey_after_undo(conversation.pk) is False  # a repeat sends nothing
    assert _survey_messages(conversation) == 1
    assert SatisfactionSurvey.objects.filter(conversation=conversation).count() == 1


def test_an_undone_resolve_never_sends_the_survey(world):
    from reports.tasks import send_due_surveys, send_survey_after_undo

    with time_machine.travel(at(16, 8), tick=False):
        conversation = customer_writes(world.mail, "u1", sender="ann@example.com")
    resolved = at(16, 9)
    _resolve_at(world, conversation, resolved)
    _resolve_at(world, conversation, resolved + dt.timedelta(seconds=3), status="open")  # Undo
    with time_machine.travel(resolved + dt.timedelta(minutes=1), tick=False):
        assert send_survey_after_undo(conversation.pk) is False
        assert send_due_surveys() == 0
    assert _survey_messages(conversation) == 0
    assert not SatisfactionSurvey.objects.filter(conversation=conversation).exists()
    assert not Activity.objects.filter(conversation=conversation, verb="csat_sent").exists()


def test_resolved_again_after_an_undo_waits_a_whole_window_from_the_second_resolve(world):
    from reports.tasks import send_survey_after_undo

    with time_machine.travel(at(16, 8), tick=False):
        conversation = customer_writes(world.mail, "r1", sender="ann@example.com")
    first = at(16, 9)
    _resolve_at(world, conversation, first)
    _resolve_at(world, conversation, first + dt.timedelta(seconds=2), status="open")
    second = first + dt.timedelta(seconds=6)
    _resolve_at(world, conversation, second)
    # The first resolve's task fires 11 s after it: only 5 s after the second resolve.
    with time_machine.travel(first + dt.timedelta(seconds=11), tick=False):
        assert send_survey_after_undo(conversation.pk) is False
    with time_machine.travel(second + dt.timedelta(seconds=11), tick=False):
        assert send_survey_after_undo(conversation.pk) is True
    assert _survey_messages(conversation) == 1


def test_the_sweep_sends_what_no_countdown_sent_within_its_horizon(world):
    from reports.tasks import send_due_surveys

    with time_machine.travel(at(16, 8), tick=False):
        recent = customer_writes(world.mail, "s1", sender="ann@example.com")
        old = customer_writes(world.mail, "s2", sender="bob@example.com")
    _resolve_at(world, old, at(16, 8, 30))  # resolved over an hour before the sweep
    _resolve_at(world, recent, at(16, 9, 40))
    with time_machine.travel(at(16, 9, 40) + dt.timedelta(seconds=3), tick=False):
        assert send_due_surveys() == 0  # inside the undo window
    with time_machine.travel(at(16, 9, 41), tick=False):
        assert send_due_surveys() == 1
        assert send_due_surveys() == 0
    assert _survey_messages(recent) == 1 and _survey_messages(old) == 0
