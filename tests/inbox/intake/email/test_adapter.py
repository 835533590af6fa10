"""The email adapter on its own: pure bytes -> normalized items."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.intake.adapters.email import UnparseableEmail, parse_bytes
from inbox.intake.doors.email import ingest_email
from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail


@pytest.mark.parametrize(
    ("headers", "auto_kind"),
    [
        ({}, ""),
        ({"Auto-Submitted": "no"}, ""),
        ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
        ({"Auto-Submitted": "auto-generated"}, "auto_reply"),
        ({"X-Autoreply": "yes"}, "auto_reply"),
        ({"X-Autorespond": "vacation"}, "auto_reply"),
        ({"Precedence": "bulk"}, "list"),
        ({"Precedence": "junk"}, "list"),
        ({"Precedence": "list"}, "list"),
        ({"List-Id": "<news.example.com>"}, "list"),
        ({"List-Unsubscribe": "<mailto:leave@example.com>"}, "list"),
        ({"Return-Path": "<>"}, "bounce"),
    ],
)
def test_automatic_mail_is_marked(headers, auto_kind):
    [message] = parse_bytes(raw_mail(headers=headers))
    assert message.auto_kind == auto_kind


def test_mail_from_mailer_daemon_is_a_bounce():
    [message] = parse_bytes(raw_mail(sender="MAILER-DAEMON@mx.example.net"))
    assert message.auto_kind == "bounce"


def test_threading_headers_and_reply_token_are_read():
    [message] = parse_bytes(
        raw_mail(
            to="Support <help+abc123@support.example.com>, other@example.com",
            in_reply_to="parent@example.com",
            references="<root@example.com> <parent@example.com>",
        ),
        channel_address="help@support.example.com",
    )
    assert message.references == ("parent@example.com", "root@example.com")
    assert message.reply_token == "abc123"
    assert message.external_id == "m1@example.com"


def test_garbage_is_refused_with_a_reason():
    with pytest.raises(UnparseableEmail, match="no headers"):
        parse_bytes(b"just some bytes\r\n\r\nno headers worth the name")


@pytest.mark.django_db
def test_a_quarantined_mail_is_processed_by_reprocess_inbound_once_fixed(settings):
    channel = ChannelFactory(slug="help")
    settings.EMAIL_MAX_DEPTH = 0
    raw = raw_mail(html="<p>hi</p>")  # multipart/alternative: its parts are too deep now
    assert ingest_email(channel=channel, raw=raw).outcome == "quarantined"

    settings.EMAIL_MAX_DEPTH = 20
    call_command("reprocess_inbound")

    assert InboundEvent.objects.get().status == "processed"
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_threading_costs_the_same_queries_for_one_or_fifty_references():
    channel = ChannelFactory(slug="help")
    ingest_email(channel=channel, raw=raw_mail(message_id="root@example.com"))

    def queries_for(message_id: str, references: list[str]) -> int:
        raw = raw_mail(
            message_id=message_id,
            in_reply_to="root@example.com",
            references=" ".join(f"<{r}>" for r in references),
        )
        with CaptureQueriesContext(connection) as captured:
            assert ingest_email(channel=channel, raw=raw).outcome == "ok"
        return len(captured)

    one = queries_for("r1@example.com", ["root@example.com"])
    fifty = queries_for("r2@example.com", [f"x{i}@example.com" for i in range(49)])
    assert fifty == one
