"""Attacks through mail (issue 11, "Attacks"): spoofed threading headers and forged reply tokens,
hostile attachment names, and mail loops. Real RFC 822 through the real parser and services."""

import base64
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client, TestCase

from inbox.intake.doors.email import ingest_email
from inbox.models import Attachment, Conversation, Message
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = pytest.mark.django_db


def ingest(**kwargs):
    """ingest_email, then what it scheduled after commit (acknowledgements), as in production."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return ingest_email(**kwargs)


def send_reply_now(**kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return send_reply(**kwargs)


@pytest.fixture
def channel(team):
    return ChannelFactory(
        slug="help",
        kind="email",
        address="help@support.example.com",
        default_team=team,
        config={"auto_ack": {"enabled": True, "text": "Thanks, we got your message."}},
    )


@pytest.fixture
def victims_thread(channel):
    """Ann's conversation, with her first mail and our reply (whose Message-ID and reply token
    an attacker may have seen, e.g. in a forwarded copy)."""
    result = ingest(
        channel=channel,
        raw=raw_mail(sender="Ann <ann@example.com>", message_id="ann-1@example.com"),
    )
    return Conversation.objects.get(pk=result.conversation_id)


def mallory(**kw):
    return raw_mail(sender="Mallory <mallory@evil.test>", subject="Re: Printer on fire", **kw)


def test_a_spoofed_in_reply_to_from_a_stranger_opens_a_new_conversation(channel, victims_thread):
    result = ingest(
        channel=channel,
        raw=mallory(
            message_id="m-1@evil.test",
            in_reply_to="ann-1@example.com",
            references="<ann-1@example.com>",
        ),
    )
    assert result.outcome == "ok" and result.conversation_id != victims_thread.pk
    assert victims_thread.messages.filter(direction="in").count() == 1
    planted = Message.objects.get(external_id="m-1@evil.test")
    assert planted.direction == "in" and planted.sender_user_id is None  # never an agent reply


def test_a_forged_reply_token_is_never_appended_nor_forwarded(channel, victims_thread, agent):
    token = victims_thread.reply_token
    assert token
    to = channel.address.replace("@", f"+{token}@")
    mail.outbox.clear()
    result = ingest(channel=channel, raw=mallory(message_id="m-2@evil.test", to=f"Support <{to}>"))
    assert result.conversation_id != victims_thread.pk
    assert victims_thread.messages.filter(direction="in").count() == 1
    # Nothing from Mallory reached Ann: the only mail out is Mallory's own acknowledgement.
    assert all("ann@example.com" not in message.to for message in mail.outbox)


def test_mail_from_our_own_address_is_not_treated_as_an_agent_reply(channel, victims_thread):
    result = ingest(
        channel=channel,
        raw=raw_mail(
            sender=f"Support <{channel.address}>",
            message_id="own-1@evil.test",
            in_reply_to="ann-1@example.com",
        ),
    )
    assert result.conversation_id != victims_thread.pk
    stored = Message.objects.get(external_id="own-1@evil.test")
    assert stored.direction == "in" and stored.sender_user_id is None


# --- attachment names ----------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "evil\x00.pdf.exe",
    "inv\u200boice\u200d.pdf",
    "photo\u202egnp.exe",
    ".htaccess",
    "page.html",
    "logo.svg",
    "<img src=x onerror=alert(1)>.txt",
]


def with_attachment(name: str, content: bytes, content_type: str) -> bytes:
    encoded = base64.encodebytes(content).decode()
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "From: Ann <ann@example.com>\r\nTo: help@support.example.com\r\nSubject: files\r\n"
        f"Message-ID: <{abs(hash(name))}@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        f'--b\r\nContent-Type: {content_type}\r\nContent-Disposition: attachment; filename="{quoted}"'
        f"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}--b--\r\n"
    ).encode()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_attachment_names_are_stored_under_a_generated_key_and_downloaded_safely(
    channel, admin_user, name
):
    payload = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    content_type = "image/svg+xml" if name.endswith(".svg") else "text/html"
    result = ingest(channel=channel, raw=with_attachment(name, payload, content_type))
    assert result.outcome == "ok"
    attachment = Attachment.objects.get()
    stored = Path(attachment.file.path).resolve()
    media = Path(django_settings.MEDIA_ROOT).resolve()
    assert media in stored.parents  # never outside the attachment store
    assert stored.name != name and "/" not in attachment.name and "\\" not in attachment.name
    assert not any(ch in attachment.name for ch in "\x00\u200b\u200d\u202e")
    assert not attachment.name.startswith(".")
    assert not str(django_settings.MEDIA_URL).startswith("/static")

    browser = Client()
    browser.force_login(admin_user)
    response = browser.get(f"/inbox/attachments/{attachment.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == payload
    page = browser.get(f"/inbox/conversations/{result.conversation_id}/thread/").content.decode()
    # Neither the name nor the file's own SVG is drawn as markup; the only SVGs are our icons.
    assert "<img src=x" not in page and "onload" not in page
    assert page.count("<svg") == page.count('<svg class="icon')
    if name.startswith("<img"):
        assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page  # shown, escaped


def test_the_media_directory_is_not_served(channel, admin_user):
    ingest(channel=channel, raw=with_attachment("a.html", b"<b>x</b>", "text/html"))
    attachment = Attachment.objects.get()
    browser = Client()
    browser.force_login(admin_user)
    for url in (attachment.file.url, f"/media/{attachment.file.name}", f"/{attachment.file.name}"):
        assert browser.get(url).status_code == 404, url


# --- mail loops ----------------------------------------------------------------------------------


def acks_to(address: str) -> int:
    return sum(address in " ".join(message.to) for message in mail.outbox)


def test_a_first_mail_from_a_customer_is_acknowledged_once(channel):
    mail.outbox.clear()
    ingest(channel=channel, raw=raw_mail(message_id="c-1@example.com"))
    assert acks_to("ann@example.com") == 1


@pytest.mark.parametrize(
    "sender, headers",
    [
        ("Robot <help@support.example.com>", {}),  # our own address
        ("Ann <ann@example.com>", {"Auto-Submitted": "auto-replied"}),
        ("Ann <ann@example.com>", {"X-Autoreply": "yes"}),
        ("Ann <ann@example.com>", {"Precedence": "bulk"}),
        ("Ann <ann@example.com>", {"Precedence": "auto_reply"}),
        ("Ann <ann@example.com>", {"X-Auto-Response-Suppress": "All"}),
        ("Ann <ann@example.com>", {"List-Id": "<news.example.com>"}),
        ("MAILER-DAEMON <mailer-daemon@example.com>", {}),
        ("No Reply <no-reply@example.com>", {}),
    ],
)
def test_automatic_mail_gets_no_automatic_answer(channel, sender, headers):
    mail.outbox.clear()
    result = ingest(
        channel=channel, raw=raw_mail(sender=sender, message_id="auto@example.com", headers=headers)
    )
    assert result.outcome == "ok"  # stored, marked, visible
    assert mail.outbox == []


def test_two_auto_responders_stop_after_one_message(channel):
    mail.outbox.clear()
    for n in range(6):  # their responder answers each of ours without marking itself
        ingest(
            channel=channel,
            raw=raw_mail(sender="Bot <bot@partner.example>", message_id=f"loop-{n}@partner"),
        )
    assert acks_to("bot@partner.example") == 1


def dsn(original_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: help@support.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.com>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_id}>\r\nTo: {recipient}\r\nSubject: Re: hello\r\n\r\n"
        "--r--\r\n"
    ).encode()


def test_a_bounce_marks_our_reply_failed_and_gets_no_answer(channel, agent, team):
    conversation = ConversationFactory(
        channel=channel, team=team, contact=ContactFactory(email="gone@example.com")
    )
    reply = send_reply_now(conversation_id=conversation.pk, actor=agent, text="Here you go")
    reply.refresh_from_db()
    assert reply.external_id
    mail.outbox.clear()
    result = ingest(channel=channel, raw=dsn(reply.external_id, "gone@example.com"))
    assert result.outcome == "ok"
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "user unknown" in reply.delivery_error
    assert mail.outbox == []  # no acknowledgement to the mailer daemon
    assert Message.objects.get(external_id="dsn-1@mx.example.com").auto_kind == "bounce"
