"""Who wrote it (issue 21): the messages the product sends by itself (the automatic
acknowledgement, the satisfaction survey) are from the system, in the API (`sender.type` =
"system") and in the thread (shown as the product, never as the customer)."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from inbox.intake.doors.email import ingest_email
from inbox.models import Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = pytest.mark.django_db

SYSTEM = {"type": "system", "name": "Switchboard"}


@pytest.fixture
def mailbox(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return ChannelFactory(
        slug="mail",
        kind="email",
        default_team=team,
        address="help@support.example.com",
        config={
            "auto_ack": {"enabled": True, "text": "Thanks, we got your message."},
            "csat": {"enabled": True, "text": "How did we do?"},
        },
    )


def senders(api, conversation_id):
    response = api.get(f"/api/v1/conversations/{conversation_id}/messages/")
    assert response.status_code == 200
    data = response.json()
    rows = data["results"] if isinstance(data, dict) else data
    return [(m["direction"], m["text"], m["sender"]) for m in rows]


def test_the_acknowledgement_and_the_survey_come_back_as_system_messages(
    mailbox, agent, client_for, django_capture_on_commit_callbacks
):
    sender = "Dana Customer <dana@example.com>"
    with django_capture_on_commit_callbacks(execute=True):
        conversation_id = ingest_email(channel=mailbox, raw=raw_mail(sender=sender)).conversation_id
    api = client_for(agent)
    with django_capture_on_commit_callbacks(execute=True):
        replied = api.post(
            f"/api/v1/conversations/{conversation_id}/messages/",
            {"text": "Unplug it, please."},
            format="json",
        )
        assert replied.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        resolved = api.patch(
            f"/api/v1/conversations/{conversation_id}/", {"status": "resolved"}, format="json"
        )
        assert resolved.status_code == 200
    # The survey waits out the resolve's undo window, then goes (reports.tasks).
    from reports.tasks import send_survey_after_undo

    later = timezone.now() + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_survey_after_undo(conversation_id) is True

    thread = senders(api, conversation_id)
    assert [(direction, who["type"]) for direction, _, who in thread] == [
        ("in", "contact"),
        ("out", "system"),
        ("out", "agent"),
        ("out", "system"),
    ]
    assert thread[0][2]["name"] == "Dana Customer"
    assert thread[1][1] == "Thanks, we got your message." and thread[1][2] == SYSTEM
    assert thread[3][1].startswith("Satisfaction survey sent") and thread[3][2] == SYSTEM


def test_the_thread_shows_the_acknowledgement_as_the_product_not_the_customer(
    mailbox, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation_id = ingest_email(
            channel=mailbox, raw=raw_mail(sender="Dana Customer <dana@example.com>")
        ).conversation_id
    acknowledgement = Message.objects.get(direction="out")
    browser = Client()
    browser.force_login(agent)
    page = browser.get(f"/inbox/conversations/{conversation_id}/").content.decode()
    start = page.index(f'id="message-{acknowledgement.pk}"')
    who = page[start : page.index("</div>", start)]
    assert "Switchboard" in who and "automatic" in who
    assert "Dana Customer" not in who
