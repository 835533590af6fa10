"""Files sent with a reply through POST /api/v1/conversations/{id}/messages/ (multipart), on every
channel, against the local SMTP server and the local fake provider servers: the bytes that
arrive (uploaded, attached, or fetched from the signed URL the provider was given) are the
bytes the agent sent. Over-limit files are refused with a 400 before anything is stored or sent."""

import email
import struct
import zlib
from email import policy
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from inbox.models import Attachment, Message
from inbox.outbound.files import LIMITS, MB
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory
from tests.inbox.factories import MessageFactory as InboundFactory

pytestmark = pytest.mark.django_db


def png(width: int = 3, height: int = 2, extra: int = 0) -> bytes:
    """A real PNG (a grey image), padded with a comment chunk to make it `extra` bytes larger."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    padding = chunk(b"tEXt", b"Comment\x00" + b"x" * extra) if extra else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + padding
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def form_parts(request) -> dict[str, tuple[str | None, bytes]]:
    """A multipart/form-data body as the fake server received it: name -> (filename, bytes)."""
    raw = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.body
    parsed = email.message_from_bytes(raw, policy=policy.HTTP)
    return {
        part.get_param("name", header="content-disposition"): (
            part.get_filename(),
            part.get_payload(decode=True),
        )
        for part in parsed.iter_parts()
    }


def fetched(url: str, settings) -> tuple[bytes, str]:
    """What a provider gets from a signed URL: no session, no token."""
    assert url.startswith(settings.PUBLIC_BASE_URL + "/files/")
    response = Client().get(urlsplit(url).path)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content), response["Content-Type"]


def post_files(client, conversation, *files, text="Here you go"):
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": text, "kind": "message", "files": list(files)},
        format="multipart",
    )


def upload(name, content, content_type):
    return SimpleUploadedFile(name, content, content_type=content_type)


def conversation_on(kind, team, *, config=None, headers=None, address="", secret="s3cret"):
    channel = ChannelFactory(
        slug=f"files-{kind}",
        kind=kind,
        default_team=team,
        config=config or {},
        address=address,
        secret=secret,
    )
    conversation = ConversationFactory(channel=channel, contact=ContactFactory(), team=team)
    InboundFactory(conversation=conversation, headers=headers or {}, text="Can you send it?")
    return conversation


@pytest.fixture
def sent(client_for, agent, django_capture_on_commit_callbacks):
    """Post the files as the agent and run the delivery; the stored reply, refreshed."""

    def send(conversation, *files, text="Here you go"):
        with django_capture_on_commit_callbacks(execute=True):
            response = post_files(client_for(agent), conversation, *files, text=text)
        assert response.status_code == 201, response.content
        message = Message.objects.get(pk=response.json()["id"])
        assert message.delivery_status == "sent", message.delivery_error
        return message

    return send


def test_email_sends_the_files_as_mime_attachments(sent, smtp_server, inbound):
    conversation = inbound("<q1@customer.example>", "Invoice please?").conversation
    image = png()
    message = sent(
        conversation,
        upload("photo.png", image, "image/png"),
        upload("invoice.pdf", PDF, "application/pdf"),
    )
    [mail] = smtp_server.messages
    files = {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in mail.message.iter_attachments()
    }
    assert files == {"photo.png": ("image/png", image), "invoice.pdf": ("application/pdf", PDF)}
    assert sorted(a.name for a in message.attachments.all()) == ["invoice.pdf", "photo.png"]


def test_whatsapp_uploads_each_file_then_sends_it_by_media_id(sent, team, http_server, settings):
    settings.META_GRAPH_BASE_URL = http_server.url
    conversation = conversation_on(
        "meta",
        team,
        config={"access_token": "EAAG"},
        headers={"platform": "whatsapp", "from": "15550001", "recipient": "PHONE-1"},
    )
    http_server.respond(200, {"messages": [{"id": "wamid.text"}]})
    http_server.respond(200, {"id": "MEDIA-9"})
    http_server.respond(200, {"messages": [{"id": "wamid.file"}]})
    message = sent(conversation, upload("invoice.pdf", PDF, "application/pdf"))
    text, media, by_id = http_server.requests
    assert text.json()["text"]["body"] == "Here you go"
    assert media.path == "/v21.0/PHONE-1/media"
    assert form_parts(media)["file"] == ("invoice.pdf", PDF)
    assert form_parts(media)["messaging_product"][1] == b"whatsapp"
    assert by_id.json()["document"] == {"id": "MEDIA-9", "filename": "invoice.pdf"}
    assert by_id.json()["to"] == "15550001"
    assert message.external_id == "wamid.text"
    assert set(message.headers["sent_parts"].values()) == {"wamid.text", "wamid.file"}


def test_messenger_uploads_the_file_with_the_message(sent, team, http_server, settings):
    settings.META_GRAPH_BASE_URL = http_server.url
    conversation = conversation_on(
        "meta",
        team,
        config={"access_token": "EAAG"},
        headers={"platform": "messenger", "from": "PSID-7", "recipient": "PAGE-1"},
    )
    image = png()
    http_server.respond(200, {"message_id": "m_file"})
    sent(conversation, upload("photo.png", image, "image/png"), text="")
    [request] = http_server.requests
    assert request.path == "/v21.0/PAGE-1/messages"
    parts = form_parts(request)
    assert parts["filedata"] == ("photo.png", image)
    assert b'"type": "image"' in parts["message"][1]
    assert b"PSID-7" in parts["recipient"][1]


def test_instagram_is_given_the_signed_url_and_fetches_the_bytes(sent, team, http_server, settings):
    settings.META_GRAPH_BASE_URL = http_server.url
    conversation = conversation_on(
        "meta",
        team,
        config={"access_token": "EAAG"},
        headers={"platform": "instagram", "from": "IGSID-3", "recipient": "IG-1"},
    )
    image = png()
    http_server.respond(200, {"message_id": "ig_text"})
    http_server.respond(200, {"message_id": "ig_file"})
    sent(conversation, upload("photo.png", image, "image/png"))
    _text, request = http_server.requests
    attachment = request.json()["message"]["attachment"]
    assert attachment["type"] == "image"
    assert fetched(attachment["payload"]["url"], settings) == (image, "image/png")


def test_telegram_sends_a_photo_and_a_document_as_multipart(sent, team, http_server, settings):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    conversation = conversation_on(
        "telegram", team, config={"bot_token": "123:ABC"}, headers={"chat_id": 456}
    )
    image = png()
    for message_id in (10, 11, 12):
        http_server.respond(200, {"ok": True, "result": {"message_id": message_id}})
    message = sent(
        conversation,
        upload("photo.png", image, "image/png"),
        upload("invoice.pdf", PDF, "application/pdf"),
    )
    text, photo, document = http_server.requests
    assert text.path == "/bot123:ABC/sendMessage"
    assert (photo.path, document.path) == ("/bot123:ABC/sendPhoto", "/bot123:ABC/sendDocument")
    assert form_parts(photo)["photo"] == ("photo.png", image)
    assert form_parts(photo)["chat_id"][1] == b"456"
    assert form_parts(document)["document"] == ("invoice.pdf", PDF)
    assert message.external_id == "456:10"


def test_twilio_gets_media_urls_it_can_fetch(sent, team, http_server, settings):
    settings.TWILIO_API_BASE_URL = http_server.url
    conversation = conversation_on(
        "twilio",
        team,
        config={"account_sid": "AC123"},
        headers={"platform": "sms", "from": "+15551230000", "to": "+15559870000"},
    )
    image = png()
    http_server.respond(201, {"sid": "MM1"})
    sent(
        conversation,
        upload("photo.png", image, "image/png"),
        upload("invoice.pdf", PDF, "application/pdf"),
    )
    [request] = http_server.requests
    from urllib.parse import parse_qs

    form = parse_qs(request.body.decode())
    assert form["Body"] == ["Here you go"]
    assert [fetched(url, settings) for url in form["MediaUrl"]] == [
        (image, "image/png"),
        (PDF, "application/pdf"),
    ]


def test_x_uploads_the_image_then_sends_the_dm_with_its_media_id(sent, team, http_server, settings):
    settings.X_API_BASE_URL = http_server.url
    conversation = conversation_on(
        "x", team, config={"access_token": "user-token"}, headers={"recipient": "9876"}
    )
    image = png()
    http_server.respond(200, {"data": {"id": "1880028106020515840", "media_key": "3_1"}})
    http_server.respond(201, {"data": {"dm_event_id": "DM-1"}})
    message = sent(conversation, upload("photo.png", image, "image/png"))
    media, dm = http_server.requests
    assert media.path == "/2/media/upload"
    parts = form_parts(media)
    assert parts["media"] == ("photo.png", image)
    assert parts["media_category"][1] == b"dm_image"
    assert dm.path == "/2/dm_conversations/with/9876/messages"
    assert dm.json() == {
        "text": "Here you go",
        "attachments": [{"media_id": "1880028106020515840"}],
    }
    assert message.external_id == "DM-1"


def test_the_api_callback_carries_signed_urls_that_expire(sent, team, http_server, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    conversation = conversation_on("api", team, config={"callback_url": f"{http_server.url}/cb"})
    image = png()
    http_server.respond(200, {})
    sent(conversation, upload("photo.png", image, "image/png"))
    [callback] = http_server.requests
    [file] = callback.json()["files"]
    assert (file["name"], file["content_type"], file["size"]) == (
        "photo.png",
        "image/png",
        len(image),
    )
    assert fetched(file["url"], settings) == (image, "image/png")
    path = urlsplit(file["url"]).path
    forged = path.replace("/files/", "/files/x", 1)
    assert Client().get(forged).status_code == 404
    settings.OUTBOUND_FILE_URL_MAX_AGE = -1  # the link has expired
    expired = Client().get(path)
    assert expired.status_code == 404 and "expired" in expired.json()["detail"]


def test_an_image_over_whatsapps_limit_is_refused_and_nothing_is_stored_or_sent(
    client_for, agent, team, http_server, settings, django_capture_on_commit_callbacks
):
    settings.META_GRAPH_BASE_URL = http_server.url
    conversation = conversation_on(
        "meta",
        team,
        config={"access_token": "EAAG"},
        headers={"platform": "whatsapp", "from": "15550001", "recipient": "PHONE-1"},
    )
    big = png(extra=5 * MB)
    assert LIMITS[("meta", "whatsapp")].image == 5 * MB < len(big)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_files(client_for(agent), conversation, upload("big.png", big, "image/png"))
    assert response.status_code == 400
    body = response.json()
    assert body["file"] == "big.png" and body["limit"] == 5 * MB
    assert "big.png" in body["detail"] and "WhatsApp" in body["detail"]
    assert "5 MB" in body["detail"]
    assert not http_server.requests
    assert not Message.objects.filter(direction="out").exists()
    assert not Attachment.objects.exists()


def test_a_type_the_provider_does_not_take_is_refused_by_name(
    client_for, agent, team, http_server, settings
):
    conversation = conversation_on(
        "x", team, config={"access_token": "user-token"}, headers={"recipient": "9876"}
    )
    response = post_files(client_for(agent), conversation, upload("a.pdf", PDF, "application/pdf"))
    assert response.status_code == 400
    assert response.json()["file"] == "a.pdf"
    assert "X only takes" in response.json()["detail"]
    assert not Message.objects.filter(direction="out").exists()


def test_a_file_on_a_note_is_refused(client_for, agent, team):
    conversation = conversation_on("api", team, config={"callback_url": "https://x.example/cb"})
    response = client_for(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": "see", "kind": "note", "files": [upload("a.pdf", PDF, "application/pdf")]},
        format="multipart",
    )
    assert response.status_code == 400 and "note" in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_json_replies_are_unchanged(client_for, agent, team):
    conversation = conversation_on("api", team, config={"callback_url": "https://x.example/cb"})
    response = client_for(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": "", "kind": "message"},
        format="json",
    )
    assert response.status_code == 400 and "text" in response.json()


def test_a_retry_after_a_failure_part_way_sends_only_what_has_not_gone(
    client_for, agent, team, http_server, settings, django_capture_on_commit_callbacks
):
    from inbox.outbound.delivery import deliver

    settings.TELEGRAM_API_BASE_URL = http_server.url
    conversation = conversation_on(
        "telegram", team, config={"bot_token": "123:ABC"}, headers={"chat_id": 456}
    )
    image = png()
    http_server.respond(200, {"ok": True, "result": {"message_id": 10}})
    http_server.respond(503, {"ok": False, "description": "Bad Gateway"})
    with django_capture_on_commit_callbacks(execute=True):
        response = post_files(client_for(agent), conversation, upload("p.png", image, "image/png"))
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.delivery_status, len(http_server.requests)) == ("queued", 2)
    http_server.respond(200, {"ok": True, "result": {"message_id": 11}})
    message = deliver(message_id=message.pk)
    assert message.delivery_status == "sent"
    paths = [r.path.rsplit("/", 1)[1] for r in http_server.requests]
    assert paths == ["sendMessage", "sendPhoto", "sendPhoto"]  # the text went once
    assert form_parts(http_server.requests[-1])["photo"] == ("p.png", image)
    assert message.external_id == "456:10"


def test_a_reply_of_files_alone_is_listed_by_their_names(sent, team, http_server, settings):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    conversation = conversation_on(
        "telegram", team, config={"bot_token": "123:ABC"}, headers={"chat_id": 456}
    )
    http_server.respond(200, {"ok": True, "result": {"message_id": 12}})
    message = sent(conversation, upload("invoice.pdf", PDF, "application/pdf"), text="")
    assert message.text == ""
    conversation.refresh_from_db()
    assert conversation.snippet == "📎 invoice.pdf"
    [request] = http_server.requests
    assert request.path == "/bot123:ABC/sendDocument"


def test_the_website_chat_takes_five_files_and_its_composer_offers_them(client_for, agent, team):
    conversation = conversation_on("chat", team)
    six = [upload(f"{n}.pdf", PDF, "application/pdf") for n in range(6)]
    response = post_files(client_for(agent), conversation, *six)
    assert response.status_code == 400
    assert response.json()["detail"] == "The website chat takes at most 5 file(s) in one reply."
    assert not Message.objects.filter(direction="out").exists()
    page = Client()
    page.force_login(agent)
    html = page.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert 'id="reply-files" name="files" multiple data-files-list="reply-files-list" aria' in html
    assert "The website chat takes files up to 10 MB, 5 at most." in html
