"""Both halves of email together: a real mail in, our reply out over SMTP, the customer's answer
to it back into the same conversation, and a bounce of our reply marking it failed."""

import pytest

from inbox.intake.doors.email import ingest_email
from inbox.models import Message
from inbox.outbound.replies import send_reply

pytestmark = pytest.mark.django_db


def raw_mail(
    *,
    message_id,
    subject,
    body,
    to="help@support.example.com",
    in_reply_to="",
    sender="jane@customer.example",
):
    lines = [
        f"From: Jane Doe <{sender}>",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: <{message_id}>",
        "Date: Tue, 17 Nov 2026 10:00:00 +0000",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def test_a_reply_and_the_customers_answer_to_it_stay_in_one_conversation(
    email_channel, smtp_server, agent, django_capture_on_commit_callbacks
):
    first = ingest_email(
        channel=email_channel,
        raw=raw_mail(message_id="q1@customer.example", subject="Printer", body="It is on fire."),
    )
    assert first.outcome == "ok"
    with django_capture_on_commit_callbacks(execute=True):
        ours = send_reply(
            conversation_id=first.conversation_id, actor=agent, text="Unplug it, please."
        )
    ours.refresh_from_db()
    [sent] = smtp_server.messages
    assert sent.message["In-Reply-To"] == "<q1@customer.example>"
    # The customer answers our mail from their client: In-Reply-To names our Message-ID.
    answer = ingest_email(
        channel=email_channel,
        raw=raw_mail(
            message_id="q2@customer.example",
            subject="Re: Printer",
            body="Done, thanks.",
            in_reply_to=sent.message["Message-ID"],
        ),
    )
    assert answer.outcome == "ok" and answer.conversation_id == first.conversation_id
    # ...and an answer sent to our plus address threads even without headers.
    by_token = ingest_email(
        channel=email_channel,
        raw=raw_mail(
            message_id="q3@customer.example",
            subject="one more thing",
            body="Also the fax.",
            to=sent.message["Reply-To"],
        ),
    )
    assert by_token.conversation_id == first.conversation_id


def test_a_bounce_of_our_reply_marks_it_failed(
    email_channel, smtp_server, agent, django_capture_on_commit_callbacks
):
    first = ingest_email(
        channel=email_channel,
        raw=raw_mail(message_id="b1@customer.example", subject="Hi", body="Hello"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        ours = send_reply(conversation_id=first.conversation_id, actor=agent, text="Hello back")
    ours.refresh_from_db()
    assert ours.delivery_status == "sent"
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@customer.example>\r\n"
        "To: help@support.example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@customer.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        "Final-Recipient: rfc822; jane@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unknown\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{ours.external_id}>\r\nSubject: Re: Hi\r\n"
        "--B--\r\n"
    ).encode()
    bounce = ingest_email(channel=email_channel, raw=dsn)
    assert bounce.outcome == "ok"
    ours.refresh_from_db()
    assert ours.delivery_status == "failed"
    assert "mailbox unknown" in ours.delivery_error
    stored = Message.objects.get(external_id="dsn1@customer.example")
    assert stored.auto_kind == "bounce"
