"""Agents' replies leaving as real mail: to a local SMTP server, to files, and to an ESP API."""

import datetime as dt
import json
import socket
from email import message_from_bytes, policy

import pytest
from django.utils import timezone

from core.errors import ActionRefused
from inbox.models import Message
from inbox.outbound.delivery import requeue_due
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def reply(conversation, agent, text, capture, **options):
    with capture(execute=True):
        message = send_reply(conversation_id=conversation.pk, actor=agent, text=text, **options)
    message.refresh_from_db()
    return message


def make_due(message):
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def parts(mail):
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_a_reply_threads_under_the_customers_mail_with_our_own_message_id(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("first@customer.example", "My printer is on fire.", subject="RE: Printer")
    conversation = first.conversation

    answer = reply(conversation, agent, "Please unplug it.", django_capture_on_commit_callbacks)

    assert answer.delivery_status == "sent", answer.delivery_error
    [sent] = smtp_server.messages
    mail = sent.message
    assert mail["Message-ID"] == f"<{answer.external_id}>"
    assert answer.external_id.endswith("@support.example.com") and "<" not in answer.external_id
    assert mail["In-Reply-To"] == "<first@customer.example>"
    assert mail["References"] == "<first@customer.example>"
    assert mail["From"] == "Alice via Acme Support <help@support.example.com>"
    assert mail["Reply-To"] == f"help+{conversation.reply_token}@support.example.com"
    assert mail["To"] == "jane@customer.example" and sent.rcpt_tos == ["jane@customer.example"]
    assert mail["Subject"] == "Re: Printer"
    assert mail["Auto-Submitted"] == "no"
    text, html = parts(mail)
    assert text.startswith("Please unplug it.")
    assert "> My printer is on fire." in text and "Jane Doe wrote:" in text
    assert "<p>Please unplug it.</p>" in html
    assert "<blockquote" in html and "My printer is on fire." in html


def test_the_customers_answer_and_our_next_reply_carry_the_whole_chain(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("first@customer.example", "Hello?")
    conversation = first.conversation
    ours = reply(conversation, agent, "Hi Jane", django_capture_on_commit_callbacks)
    second = inbound(
        "second@customer.example",
        "Still broken.\nReally.",
        subject="Re: Printer on fire",
        references=("first@customer.example", ours.external_id),
        reply_token=conversation.reply_token,
    )
    assert second.conversation == conversation and second.created

    reply(
        conversation,
        agent,
        "Escalating now.",
        django_capture_on_commit_callbacks,
        cc=["boss@customer.example", "JANE@customer.example"],
    )

    mail = smtp_server.messages[-1].message
    assert mail["In-Reply-To"] == "<second@customer.example>"
    assert mail["References"].split() == [
        "<first@customer.example>",
        f"<{ours.external_id}>",
        "<second@customer.example>",
    ]
    assert mail["Subject"] == "Re: Printer on fire"
    assert mail["Cc"] == "boss@customer.example"
    assert sorted(smtp_server.messages[-1].rcpt_tos) == [
        "boss@customer.example",
        "jane@customer.example",
    ]
    text, _ = parts(mail)
    assert "> Still broken.\n> Really." in text and "Hello?" not in text


def test_a_long_thread_keeps_references_bounded_with_the_first_id(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("m0@customer.example", "Start")
    conversation = first.conversation
    for n in range(1, 30):
        inbound(f"<m{n}@customer.example>", f"More {n}", reply_token=conversation.reply_token)

    reply(conversation, agent, "Done", django_capture_on_commit_callbacks)

    references = smtp_server.messages[-1].message["References"].split()
    assert len(references) == 20
    assert references[0] == "<m0@customer.example>"
    assert references[-1] == "<m29@customer.example>"


def test_a_hostile_agent_text_is_escaped_in_the_html_part(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("x@customer.example", 'Look: <img src=x onerror="alert(1)">')
    hostile = "<script>alert('pwned')</script> & <a href=\"javascript:alert(2)\">click</a>"

    reply(first.conversation, agent, hostile, django_capture_on_commit_callbacks)

    text, html = parts(smtp_server.messages[-1].message)
    assert "<script" not in html and "<a href" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; &amp;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert text.startswith(hostile)  # the plain text part is the agent's text as typed


def test_a_4xx_answer_is_retried_with_the_same_message_id_then_sent(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("q@customer.example", "Hello")
    smtp_server.refuse_data("451 4.3.0 Mailbox busy, try again later")

    answer = reply(first.conversation, agent, "Hi!", django_capture_on_commit_callbacks)

    assert answer.delivery_status == "queued" and answer.send_attempts == 1
    assert "451" in answer.delivery_error and "try again later" in answer.delivery_error
    assert smtp_server.messages == []
    make_due(answer)
    assert requeue_due() == 1
    answer.refresh_from_db()
    assert answer.delivery_status == "sent" and answer.send_attempts == 2
    assert [m["Message-ID"] for m in smtp_server.attempts] == [f"<{answer.external_id}>"] * 2
    assert len(smtp_server.messages) == 1


def test_a_refused_recipient_fails_for_good_and_says_why(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("r@customer.example", "Hello")
    smtp_server.refuse_recipient("jane@customer.example", "550 5.1.1 No such user here")

    answer = reply(first.conversation, agent, "Hi!", django_capture_on_commit_callbacks)

    assert answer.delivery_status == "failed"
    assert "550" in answer.delivery_error and "No such user here" in answer.delivery_error
    make_due(answer)
    assert requeue_due() == 0  # failed for good: never retried


def test_an_unreachable_mail_server_is_retried_later(
    settings, inbound, agent, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    first = inbound("u@customer.example", "Hello")

    answer = reply(first.conversation, agent, "Hi!", django_capture_on_commit_callbacks)

    assert answer.delivery_status == "queued" and answer.next_attempt_at > timezone.now()
    assert "ConnectionRefusedError" in answer.delivery_error


def test_the_file_backend_writes_the_mail_in_embedded_mode(
    settings, tmp_path, inbound, agent, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox-mail"
    first = inbound("f@customer.example", "Hello")

    answer = reply(first.conversation, agent, "Written to disk", django_capture_on_commit_callbacks)

    assert answer.delivery_status == "sent"
    [path] = (tmp_path / "outbox-mail").iterdir()
    raw = path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Message-ID"] == f"<{answer.external_id}>"
    assert mail["In-Reply-To"] == "<f@customer.example>"
    assert parts(mail)[0].startswith("Written to disk")


def postmark_channel(team, **esp_settings):
    return ChannelFactory(
        kind="email",
        slug="esp",
        name="ESP Support",
        address="esp@support.example.com",
        default_team=team,
        config={"esp": "postmark", "esp_settings": {"server_token": "pm-token", **esp_settings}},
    )


def test_a_channel_can_send_through_an_esp_api(
    settings, http_server, team, inbound, agent, django_capture_on_commit_callbacks
):
    settings.ANYMAIL = {"POSTMARK_API_URL": f"{http_server.url}/postmark/"}
    channel = postmark_channel(team, api_url="http://169.254.169.254/")
    first = inbound("p@customer.example", "Hello", channel=channel)
    http_server.respond(
        200,
        body=json.dumps(
            {
                "To": "jane@customer.example",
                "SubmittedAt": "2026-01-01T00:00:00Z",
                "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
                "ErrorCode": 0,
                "Message": "OK",
            }
        ).encode(),
    )

    answer = reply(first.conversation, agent, "Via the ESP", django_capture_on_commit_callbacks)

    assert answer.delivery_status == "sent", answer.delivery_error
    [request] = http_server.requests  # the channel's api_url was not used
    assert request.path == "/postmark/email"
    assert request.headers["x-postmark-server-token"] == "pm-token"
    body = request.json()
    assert body["To"] == "jane@customer.example"
    assert body["ReplyTo"] == f"esp+{first.conversation.reply_token}@support.example.com"
    headers = {h["Name"]: h["Value"] for h in body["Headers"]}
    assert headers["In-Reply-To"] == "<p@customer.example>"
    assert headers["Message-ID"] == f"<{answer.external_id}>"
    assert answer.headers["esp_message_id"] == "0a129aee-e1cd-480d-b08d-4f48548ff48d"


@pytest.mark.parametrize(("status", "outcome"), [(503, "queued"), (422, "failed")])
def test_esp_errors_are_retried_or_fail_for_good(
    settings, http_server, team, inbound, agent, django_capture_on_commit_callbacks, status, outcome
):
    settings.ANYMAIL = {"POSTMARK_API_URL": f"{http_server.url}/postmark/"}
    first = inbound("e@customer.example", "Hello", channel=postmark_channel(team))
    http_server.respond(status, body=b'{"ErrorCode": 300, "Message": "Invalid email request"}')

    answer = reply(first.conversation, agent, "Via the ESP", django_capture_on_commit_callbacks)

    assert answer.delivery_status == outcome
    assert str(status) in answer.delivery_error


def test_cc_must_be_valid_addresses(email_channel, agent):
    conversation = ConversationFactory(channel=email_channel)
    with pytest.raises(ActionRefused, match="not a valid email address"):
        send_reply(
            conversation_id=conversation.pk,
            actor=agent,
            text="Hi",
            cc=["ok@example.com", "bad\r\nBcc: victim@example.com"],
        )
    assert not Message.objects.exists()


def test_cc_and_subject_are_refused_off_email_channels(agent, team):
    channel = ChannelFactory(kind="api", default_team=team, config={"callback_url": "http://x/"})
    conversation = ConversationFactory(channel=channel, team=team)
    with pytest.raises(ActionRefused, match="only be set on email replies"):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Hi", cc=["a@example.com"])


def test_a_custom_subject_replaces_the_re_subject(
    smtp_server, inbound, agent, django_capture_on_commit_callbacks
):
    first = inbound("s@customer.example", "Hello")
    answer = reply(
        first.conversation,
        agent,
        "See the new plan",
        django_capture_on_commit_callbacks,
        subject="Your new plan\r\nBcc: victim@example.com",
    )
    assert answer.headers == {"subject": "Your new plan Bcc: victim@example.com"}
    mail = smtp_server.messages[-1].message
    assert mail["Subject"] == "Your new plan Bcc: victim@example.com"
    assert mail["Bcc"] is None and smtp_server.messages[-1].rcpt_tos == ["jane@customer.example"]


def test_a_contact_without_an_address_cannot_be_replied_to(email_channel, agent):
    conversation = ConversationFactory(channel=email_channel, contact__email="")
    with pytest.raises(ActionRefused, match="no email address"):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
