"""ESP inbound through django-anymail's own webhook views and authenticity checks; the channel
is chosen by recipient address. Payloads: tests/fixtures/webhooks/<esp>/ (from the corpus)."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = [
    pytest.mark.django_db,
    # anymail still ships SendGrid's inbound view but warns it no longer tests it upstream.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "webhooks"
BASIC = "Basic " + base64.b64encode(b"esp-user:esp-pass").decode()
SIGNING_KEY = "mailgun-signing-key"


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": "esp-user:esp-pass",
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }


def process_all(capture, send):
    with capture(execute=True):
        return send()


# --- Postmark -----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["SH-W-001", "SH-W-002"])
def test_postmark_inbound_lands_on_the_channel_of_its_recipient(
    client, case, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(slug="pm", address="mailbox@inbound.postmarkapp.com")
    ChannelFactory(slug="other", address="other@inbound.postmarkapp.com")
    body = (FIXTURES / "postmark" / f"{case}.json").read_bytes()

    response = process_all(
        django_capture_on_commit_callbacks,
        lambda: client.post(
            "/webhooks/esp/postmark/inbound/",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=BASIC,
        ),
    )

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert (event.channel_id, event.status, event.provider) == (channel.pk, "processed", "email")
    message = Message.objects.select_related("conversation", "sender_contact").get()
    assert message.conversation.channel_id == channel.pk
    assert message.conversation.subject == "Test subject"
    assert message.sender_contact.email == "support@postmarkapp.com"
    assert "This is a test text body." in message.text


def test_postmark_inbound_without_the_webhook_secret_is_refused(client):
    ChannelFactory(slug="pm", address="mailbox@inbound.postmarkapp.com")
    body = (FIXTURES / "postmark" / "SH-W-002.json").read_bytes()
    wrong = "Basic " + base64.b64encode(b"esp-user:guess").decode()

    response = client.post(
        "/webhooks/esp/postmark/inbound/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=wrong,
    )

    assert response.status_code == 401 and response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists()


# --- SendGrid -----------------------------------------------------------------------------------


def sendgrid_body(case: str) -> bytes:
    # The fixture is stored with LF line ends; SendGrid posts multipart/form-data with CRLF.
    text = (FIXTURES / "sendgrid" / f"{case}.txt").read_bytes()
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.mark.parametrize(
    ("case", "address", "subject"),
    [
        ("SH-W-003", "inbound@inbound.example.com", "Inbound Parse Test Data"),
        ("SH-W-004", "inbound@inbound.inbound.com", "Inbound Parse Test Raw Data"),
    ],
)
def test_sendgrid_inbound_parse_in_both_modes(
    client, case, address, subject, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(slug="sg", address=address)

    response = process_all(
        django_capture_on_commit_callbacks,
        lambda: client.generic(
            "POST",
            "/webhooks/esp/sendgrid/inbound/",
            sendgrid_body(case),
            content_type="multipart/form-data; boundary=xYzZY",
            HTTP_AUTHORIZATION=BASIC,
        ),
    )

    assert response.status_code == 200
    message = Message.objects.select_related("conversation", "sender_contact").get()
    assert message.conversation.channel_id == channel.pk
    assert message.conversation.subject == subject
    assert message.sender_contact.email == "test@example.com"
    assert "Hello Twilio SendGrid!" in message.text


def test_mail_for_no_known_address_is_kept_as_a_failed_event(client):
    ChannelFactory(slug="sg", address="someone-else@example.com")

    response = client.generic(
        "POST",
        "/webhooks/esp/sendgrid/inbound/",
        sendgrid_body("SH-W-003"),
        content_type="multipart/form-data; boundary=xYzZY",
        HTTP_AUTHORIZATION=BASIC,
    )

    assert response.status_code == 200  # the ESP must not retry: it is stored, for admins
    event = InboundEvent.objects.get()
    assert event.status == "failed"
    assert "no email channel" in event.error
    assert bytes(event.body).find(b"Inbound Parse Test Data") > 0


# --- Amazon SES (SNS notification of an SES receipt with an SNS action) -------------------------


def ses_notification() -> tuple[bytes, dict]:
    record = json.loads((FIXTURES / "amazon_ses" / "SH-W-005.json").read_text())["Records"][0]
    ses = record["ses"]
    headers = {h["name"]: h["value"] for h in ses["mail"]["headers"]}
    raw = raw_mail(
        sender=headers["From"],
        to=headers["To"],
        subject=headers["Subject"],
        message_id=headers["Message-ID"].strip("<>"),
        text="Example content from SES",
    )
    receipt = {
        **ses["receipt"],
        "action": {
            "type": "SNS",
            "encoding": "BASE64",
            "topicArn": ses["receipt"]["action"]["topicArn"],
        },
    }
    sns = {
        "Type": "Notification",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": receipt["action"]["topicArn"],
        "Message": json.dumps(
            {
                "notificationType": "Received",
                "mail": ses["mail"],
                "receipt": receipt,
                "content": base64.b64encode(raw).decode(),
            }
        ),
        "Timestamp": ses["mail"]["timestamp"],
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
    }
    return json.dumps(sns).encode(), {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": sns["MessageId"],
    }


def test_amazon_ses_inbound_over_sns(client, django_capture_on_commit_callbacks):
    channel = ChannelFactory(slug="ses", address="recipient@example.com")
    body, headers = ses_notification()

    response = process_all(
        django_capture_on_commit_callbacks,
        lambda: client.post(
            "/webhooks/esp/amazon_ses/inbound/",
            data=body,
            content_type="text/plain",  # SNS posts JSON as text/plain
            HTTP_AUTHORIZATION=BASIC,
            **headers,
        ),
    )

    assert response.status_code == 200
    message = Message.objects.select_related("conversation", "sender_contact").get()
    assert message.conversation.channel_id == channel.pk
    assert message.conversation.subject == "Example subject"
    assert message.external_id == "61967230-7A45-4A9D-BEC9-87CBCF2211C9@example.com"
    assert message.sender_contact.email == "sender@example.com"


def test_amazon_ses_with_mismatched_sns_headers_is_refused(client):
    ChannelFactory(slug="ses", address="recipient@example.com")
    body, headers = ses_notification()
    headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = "forged"

    response = client.post(
        "/webhooks/esp/amazon_ses/inbound/",
        data=body,
        content_type="text/plain",
        HTTP_AUTHORIZATION=BASIC,
        **headers,
    )

    assert response.status_code == 401 and response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists()


# --- Mailgun (its documented inbound_mime form post, signed with the webhook signing key) -------


def mailgun_form(key: str = SIGNING_KEY) -> dict:
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "recipient": "help@mg.example.com",
        "sender": "ann@example.com",
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "body-mime": raw_mail(to="help@mg.example.com", message_id="mg-1@example.com").decode(),
    }


def test_mailgun_inbound_mime_signed_with_the_signing_key(
    client, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(slug="mg", address="help@mg.example.com")

    response = process_all(
        django_capture_on_commit_callbacks,
        lambda: client.post(
            "/webhooks/esp/mailgun/inbound_mime/", data=mailgun_form(), HTTP_AUTHORIZATION=BASIC
        ),
    )

    assert response.status_code == 200
    message = Message.objects.select_related("conversation").get()
    assert message.conversation.channel_id == channel.pk
    assert message.external_id == "mg-1@example.com"


def test_mailgun_inbound_with_a_bad_signature_is_refused(client):
    ChannelFactory(slug="mg", address="help@mg.example.com")

    response = client.post(
        "/webhooks/esp/mailgun/inbound_mime/",
        data=mailgun_form(key="not-the-key"),
        HTTP_AUTHORIZATION=BASIC,
    )

    assert response.status_code == 401 and response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists()


@pytest.mark.django_db
def test_esp_webhooks_are_closed_until_a_secret_is_set(client, settings):
    settings.ANYMAIL = {}
    response = client.post(
        "/webhooks/esp/postmark/inbound/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 401 and response.json()["code"] == "not_configured"
    assert not InboundEvent.objects.exists()
