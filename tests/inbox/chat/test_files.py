"""Files in the website chat, over the widget's HTTP door: a visitor's file becomes an inbound
message with its attachment (the bytes compared); refusals (too big, wrong type, a forged token,
no file) answer 4xx with JSON words and store nothing; an agent's files reach the widget's poll
as signed links whose bytes are the agent's."""

import json
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inbox.attachments import opened
from inbox.models import Attachment, InboundEvent, Message
from inbox.outbound.files import Outgoing
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory
from tests.inbox.outbound.senders.test_files import PDF, png

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"


@pytest.fixture
def channel(team):
    return ChannelFactory(
        kind="chat", slug="chat", default_team=team, config={"allowed_origins": [SHOP]}
    )


@pytest.fixture
def widget():
    return Client(headers={"Origin": SHOP})


@pytest.fixture
def token(channel, widget):
    response = widget.post(
        f"/chat/{channel.public_key}/session/",
        json.dumps({"name": "Ada"}),
        content_type="application/json",
    )
    return response.json()["token"]


def send_file(widget, channel, token, name, content, content_type, **extra):
    return widget.post(
        f"/chat/{channel.public_key}/files/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), **extra},
        headers={"X-Chat-Token": token} if token else {},
    )


def test_a_visitors_file_becomes_an_inbound_message_with_the_attachment(channel, widget, token):
    picture = png(40, 30)
    response = send_file(widget, channel, token, "photo.png", picture, "image/png", id="f1")
    again = send_file(widget, channel, token, "photo.png", picture, "image/png", id="f1")

    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == SHOP
    shown = response.json()["message"]
    assert again.json()["message"]["id"] == shown["id"]  # a retried upload stores nothing new
    message = Message.objects.select_related("conversation").get(pk=shown["id"])
    assert (message.direction, message.text, message.conversation.thread_key) == (
        "in",
        "",
        chat_session_of(token, channel),
    )
    assert message.conversation.snippet == "📎 photo.png"
    [attachment] = message.attachments.all()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "photo.png",
        "image/png",
        len(picture),
    )
    with opened(attachment) as handle:
        assert handle.read() == picture
    # The same intake path as text: stored raw (a retry too, reported a duplicate), then processed.
    assert set(InboundEvent.objects.values_list("provider", flat=True)) == {"chat"}
    [file] = shown["files"]
    assert (file["name"], file["content_type"], file["size"]) == (
        "photo.png",
        "image/png",
        len(picture),
    )
    assert bytes_at(file["url"]) == picture


def chat_session_of(token, channel):
    from inbox.chat import service as chat

    return chat.read_token(channel, token).id


def bytes_at(url: str) -> bytes:
    response = Client().get(urlsplit(url).path)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_a_file_over_the_limit_is_refused_with_words(channel, widget, token, settings):
    settings.CHAT_FILE_MAX_BYTES = 1024
    response = send_file(widget, channel, token, "big.pdf", PDF + b"x" * 2000, "application/pdf")
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert "at most 1 KB" in response.json()["detail"]
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert not Message.objects.exists() and not InboundEvent.objects.exists()


def test_a_file_whose_bytes_are_not_its_type_is_refused(channel, widget, token):
    exe = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200
    response = send_file(widget, channel, token, "cat.png", exe, "image/png")
    assert response.status_code == 415
    assert response.json()["code"] == "file_type_refused"
    assert "“cat.png” cannot be sent here" in response.json()["detail"]
    html = send_file(widget, channel, token, "page.html", b"<script>1</script>", "text/html")
    assert html.status_code == 415
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_an_office_file_without_a_declared_type_is_typed_by_its_name(channel, widget, token):
    response = send_file(widget, channel, token, "notes.txt", b"order 1234", "")
    assert response.status_code == 201, response.content
    assert Attachment.objects.get().content_type == "text/plain"


def test_a_forged_token_and_a_missing_file_are_refused(channel, widget, token):
    forged = send_file(widget, channel, token + "x", "a.pdf", PDF, "application/pdf")
    assert forged.status_code == 401
    assert forged.json() == {"code": "bad_token", "detail": "The chat session token is not valid."}
    none = widget.post(f"/chat/{channel.public_key}/files/", {}, headers={"X-Chat-Token": token})
    assert none.status_code == 400
    assert "exactly one file" in none.json()["detail"]
    as_json = widget.post(
        f"/chat/{channel.public_key}/files/",
        "{}",
        content_type="application/json",
        headers={"X-Chat-Token": token},
    )
    assert as_json.status_code == 400
    assert "multipart/form-data" in as_json.json()["detail"]
    assert not Message.objects.exists()


def test_files_are_rate_limited_like_messages(channel, widget, token, settings):
    settings.CHAT_RATE_LIMIT = 1
    first = send_file(widget, channel, token, "a.pdf", PDF, "application/pdf")
    second = send_file(widget, channel, token, "b.pdf", PDF, "application/pdf")
    assert first.status_code == 201
    assert second.status_code == 429 and int(second["Retry-After"]) >= 1
    assert second.json()["code"] == "rate_limited"
    assert Message.objects.count() == 1


def test_an_agents_files_reach_the_widgets_poll_as_signed_links(
    channel, widget, token, agent, django_capture_on_commit_callbacks
):
    url = f"/chat/{channel.public_key}/messages/"
    posted = widget.post(
        url,
        json.dumps({"text": "Invoice?"}),
        content_type="application/json",
        headers={"X-Chat-Token": token},
    )
    conversation_id = Message.objects.get(pk=posted.json()["message"]["id"]).conversation_id
    picture = png(5, 5)
    files = [
        Outgoing("invoice.pdf", "application/pdf", len(PDF), SimpleUploadedFile("i", PDF)),
        Outgoing("shot.png", "image/png", len(picture), SimpleUploadedFile("s", picture)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation_id, actor=agent, text="Here", files=files)
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"

    later = widget.get(url, {"after": 0}, headers={"X-Chat-Token": token}).json()["messages"]
    shown = next(m for m in later if m["id"] == reply.pk)
    assert [(f["name"], f["content_type"], f["size"]) for f in shown["files"]] == [
        ("invoice.pdf", "application/pdf", len(PDF)),
        ("shot.png", "image/png", len(picture)),
    ]
    assert [bytes_at(f["url"]) for f in shown["files"]] == [PDF, picture]


def test_an_away_visitor_who_left_an_email_gets_the_files_as_mail_attachments(
    team, agent, settings, django_capture_on_commit_callbacks
):
    from email import message_from_bytes, policy

    from django.core import mail

    from inbox.chat import service as chat

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ChannelFactory(kind="email", slug="help", address="help@example.com", default_team=team)
    site = ChannelFactory(
        kind="chat", slug="site", default_team=team, config={"email_channel": "help"}
    )
    session = chat.start_session(channel=site, name="Ada", email="ada@example.org")
    shown = chat.post_visitor_message(session=session, text="Send me the invoice")
    conversation_id = Message.objects.get(pk=shown["id"]).conversation_id
    files = [Outgoing("invoice.pdf", "application/pdf", len(PDF), SimpleUploadedFile("i", PDF))]
    with django_capture_on_commit_callbacks(execute=True):
        send_reply(conversation_id=conversation_id, actor=agent, text="Attached", files=files)

    [sent] = mail.outbox
    parsed = message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    [part] = list(parsed.iter_attachments())
    assert (part.get_filename(), part.get_content()) == ("invoice.pdf", PDF)
