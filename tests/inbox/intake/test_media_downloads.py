"""Customers' media: each provider's file reference, in the payload shape the provider sends,
becomes a stored file with its real bytes, size and type, downloaded from a local HTTP server
after the message is stored. Failing, foreign and oversize downloads end unavailable with a
reason, never as an empty file."""

import json
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from inbox.intake.tasks import download_media, requeue_media_downloads
from inbox.models import Attachment, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_meta, post_telegram, post_twilio, post_x, provider_client
from tests.support.images import JPEG, png

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"
SECRET = "the-right-secret"
PNG = png(24, 12)


@pytest.fixture
def media_server(http_server, settings):
    """The local server plays every provider's API and media host."""
    for name in ("META_GRAPH", "TELEGRAM_API", "TWILIO_API", "X_API"):
        setattr(settings, f"{name}_BASE_URL", http_server.url)
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the guard lets this internal host through
    settings.MEDIA_ALLOWED_HOSTS = []  # only the providers' base URLs
    settings.MEDIA_DOWNLOAD = {
        "MAX_BYTES": 10_000,
        "TIMEOUT": 5.0,
        "RETRIES": 2,
        "BACKOFF_SECONDS": 0.0,
    }
    return http_server


def received(post, slug, body, django_capture_on_commit_callbacks) -> Attachment:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(provider_client(), slug, body, secret=SECRET)
    assert response.status_code == 200, response.content
    [attachment] = Attachment.objects.all()
    return attachment


def downloaded(attachment: Attachment) -> Attachment:
    """The pending attachment after one sweep (embedded mode's way to run downloads)."""
    assert attachment.state == "pending" and attachment.size == 0 and not attachment.file
    requeue_media_downloads()
    attachment.refresh_from_db()
    return attachment


def assert_stored(attachment: Attachment, content: bytes, content_type: str) -> None:
    assert attachment.state == "stored", attachment.unavailable_reason
    assert attachment.size == len(content)
    assert attachment.content_type == content_type
    with default_storage.open(attachment.file.name, "rb") as stored:
        assert stored.read() == content


def test_a_whatsapp_media_id_is_looked_up_then_downloaded_with_the_token(
    media_server, team, django_capture_on_commit_callbacks
):
    ChannelFactory(
        slug="wa", kind="meta", secret=SECRET, default_team=team, config={"access_token": "EAAB"}
    )
    body = json.loads((FIXTURES / "whatsapp" / "SH-W-009.json").read_text())["image"]
    attachment = received(post_meta, "wa", body, django_capture_on_commit_callbacks)
    assert Message.objects.get().attachments.get() == attachment  # the message is there at once
    media_server.respond(
        200,
        {
            "messaging_product": "whatsapp",
            "url": f"{media_server.url}/whatsapp_business/attachments/?mid=65463453",
            "mime_type": "image/jpeg",
            "sha256": "4654+8g=",
            "file_size": len(JPEG),
            "id": "65463453",
        },
    )
    media_server.respond(200, JPEG, {"Content-Type": "image/jpeg"})
    attachment = downloaded(attachment)
    assert_stored(attachment, JPEG, "image/jpeg")
    lookup, download = media_server.requests
    assert lookup.path == "/v21.0/65463453"
    assert download.path == "/whatsapp_business/attachments/?mid=65463453"
    assert {r.headers["authorization"] for r in media_server.requests} == {"Bearer EAAB"}


@pytest.mark.parametrize("platform", ["page", "instagram"])  # Messenger, Instagram
def test_a_messenger_or_instagram_attachment_url_is_downloaded(
    platform, media_server, team, django_capture_on_commit_callbacks
):
    ChannelFactory(slug="fb", kind="meta", secret=SECRET, default_team=team)
    body = {
        "object": platform,
        "entry": [
            {
                "id": "PAGE-1",
                "time": 1700000001000,
                "messaging": [
                    {
                        "sender": {"id": "PSID-7"},
                        "recipient": {"id": "PAGE-1"},
                        "timestamp": 1700000001000,
                        "message": {
                            "mid": "m_photo",
                            "attachments": [
                                {
                                    "type": "image",
                                    "payload": {"url": f"{media_server.url}/v/t1/photo?oh=1"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    attachment = received(post_meta, "fb", body, django_capture_on_commit_callbacks)
    assert attachment.content_type == "image/*"
    media_server.respond(200, PNG, {"Content-Type": "image/png"})
    attachment = downloaded(attachment)
    # "image/*" declares nothing: the bytes say PNG, and the name gets its extension.
    assert_stored(attachment, PNG, "image/png")
    assert attachment.name == "image.png"
    [request] = media_server.requests
    assert request.path == "/v/t1/photo?oh=1" and "authorization" not in request.headers


def test_a_telegram_file_id_goes_through_getfile(
    media_server, team, django_capture_on_commit_callbacks
):
    ChannelFactory(
        slug="tg",
        kind="telegram",
        secret=SECRET,
        default_team=team,
        config={"bot_token": "123456:ABC-DEF"},
    )
    body = {
        "update_id": 9,
        "message": {
            "message_id": 5,
            "from": {"id": 77, "is_bot": False, "first_name": "Ada"},
            "chat": {"id": 77, "first_name": "Ada", "type": "private"},
            "date": 1700000000,
            "caption": "the error",
            "photo": [
                {"file_id": "AgAD-small", "file_unique_id": "s", "file_size": 90, "width": 4},
                {"file_id": "AgAD-large", "file_unique_id": "l", "file_size": 632, "width": 8},
            ],
        },
    }
    attachment = received(post_telegram, "tg", body, django_capture_on_commit_callbacks)
    media_server.respond(
        200,
        {
            "ok": True,
            "result": {
                "file_id": "AgAD-large",
                "file_unique_id": "l",
                "file_size": len(JPEG),
                "file_path": "photos/file_7.jpg",
            },
        },
    )
    media_server.respond(200, JPEG, {"Content-Type": "application/octet-stream"})
    attachment = downloaded(attachment)
    assert_stored(attachment, JPEG, "image/jpeg")
    get_file, download = media_server.requests
    assert get_file.path == "/bot123456:ABC-DEF/getFile?file_id=AgAD-large"
    assert download.path == "/file/bot123456:ABC-DEF/photos/file_7.jpg"


def test_a_twilio_media_url_is_downloaded_with_basic_auth_through_its_redirect(
    media_server, team, django_capture_on_commit_callbacks
):
    ChannelFactory(
        slug="tw", kind="twilio", secret=SECRET, default_team=team, config={"account_sid": "AC1"}
    )
    media_path = "/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    params = {
        "MessageSid": "MM1",
        "AccountSid": "AC1",
        "From": "whatsapp:+14155550100",
        "To": "whatsapp:+14155238886",
        "Body": "",
        "NumMedia": "1",
        "MediaContentType0": "image/png",
        "MediaUrl0": f"{media_server.url}{media_path}",
        "WaId": "14155550100",
        "ProfileName": "Ada",
    }
    attachment = received(post_twilio, "tw", params, django_capture_on_commit_callbacks)
    # Twilio answers with a redirect to its CDN; here the same server plays both.
    media_server.respond(307, b"", {"Location": "/cdn/ME1-signed"})
    media_server.respond(200, PNG, {"Content-Type": "image/png"})
    attachment = downloaded(attachment)
    assert_stored(attachment, PNG, "image/png")
    assert attachment.name == "media-1.png"
    first, second = media_server.requests
    assert first.path == media_path and first.headers["authorization"].startswith("Basic ")
    assert second.path == "/cdn/ME1-signed"


def test_an_x_dm_media_url_is_downloaded(media_server, team, django_capture_on_commit_callbacks):
    ChannelFactory(
        slug="xx", kind="x", secret=SECRET, default_team=team, config={"access_token": "XT"}
    )
    body = {
        "for_user_id": "1",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "dm-photo",
                "created_timestamp": "1515446554565",
                "message_create": {
                    "target": {"recipient_id": "1"},
                    "sender_id": "2",
                    "message_data": {
                        "text": "see https://t.co/x",
                        "attachment": {
                            "type": "media",
                            "media": {
                                "id": 9,
                                "type": "photo",
                                "media_url_https": f"{media_server.url}/1.1/ton/data/dm/9/p.jpg",
                            },
                        },
                    },
                },
            }
        ],
    }
    attachment = received(post_x, "xx", body, django_capture_on_commit_callbacks)
    media_server.respond(200, JPEG, {"Content-Type": "image/jpeg"})
    attachment = downloaded(attachment)
    assert_stored(attachment, JPEG, "image/jpeg")
    [request] = media_server.requests
    assert request.headers["authorization"] == "Bearer XT"


@pytest.fixture
def twilio_photo(team, django_capture_on_commit_callbacks):
    ChannelFactory(
        slug="tw", kind="twilio", secret=SECRET, default_team=team, config={"account_sid": "AC1"}
    )

    def send(url: str) -> Attachment:
        params = {
            "MessageSid": "MM9",
            "From": "+14155550100",
            "To": "+14155238886",
            "Body": "photo",
            "NumMedia": "1",
            "MediaContentType0": "image/png",
            "MediaUrl0": url,
        }
        return received(post_twilio, "tw", params, django_capture_on_commit_callbacks)

    return send


def test_a_failing_host_leaves_it_unavailable_with_the_reason_after_the_retries(
    media_server, twilio_photo, agent, client
):
    attachment = twilio_photo(f"{media_server.url}/media/ME9")
    client.force_login(agent)
    thread = f"/inbox/conversations/{attachment.message.conversation_id}/thread/"
    assert "downloading…" in client.get(thread).content.decode()
    assert client.get(f"/inbox/attachments/{attachment.pk}/download/").status_code == 409
    for _ in range(3):
        media_server.respond(503, b"busy")
    states = []
    for _ in range(4):  # one try per sweep (the backoff is 0 here); the fourth finds none due
        requeue_media_downloads()
        attachment.refresh_from_db()
        states.append(attachment.state)
    assert states == ["pending", "pending", "unavailable", "unavailable"]
    assert len(media_server.requests) == 3  # the first try and two retries
    assert attachment.unavailable_reason == (
        "Gave up after 3 tries. Download: The server answered 503."
    )
    assert (attachment.size, attachment.file.name) == (0, "")
    page = client.get(thread).content.decode()
    assert "unavailable: Gave up after 3 tries. Download: The server answered 503." in page
    assert f"/inbox/attachments/{attachment.pk}/download/" not in page
    response = client.get(f"/inbox/attachments/{attachment.pk}/download/")
    assert response.status_code == 404 and "503" in response.json()["detail"]


def test_a_4xx_is_not_tried_again(media_server, twilio_photo):
    attachment = twilio_photo(f"{media_server.url}/media/gone")
    media_server.respond(404, b"not found")
    assert download_media([attachment.pk]) == ["unavailable"]
    attachment.refresh_from_db()
    assert attachment.unavailable_reason == "Download: The server answered 404."
    assert requeue_media_downloads() == 0


def test_a_host_outside_the_allow_list_is_refused_without_a_request(media_server, twilio_photo):
    port = media_server.url.rsplit(":", 1)[1]
    attachment = twilio_photo(f"http://localhost:{port}/media/ME9")
    requeue_media_downloads()
    attachment.refresh_from_db()
    assert attachment.state == "unavailable"
    assert "localhost is not a media host we fetch from" in attachment.unavailable_reason
    assert media_server.requests == []


def test_an_allowed_host_with_an_internal_address_is_refused(media_server, twilio_photo, settings):
    port = media_server.url.rsplit(":", 1)[1]
    settings.MEDIA_ALLOWED_HOSTS = ["localhost"]  # allowed as a media host, but internal
    attachment = twilio_photo(f"http://localhost:{port}/media/ME9")
    requeue_media_downloads()
    attachment.refresh_from_db()
    assert attachment.state == "unavailable"
    assert "an internal address" in attachment.unavailable_reason
    assert media_server.requests == []


def test_a_redirect_to_a_host_outside_the_allow_list_is_refused(media_server, twilio_photo):
    attachment = twilio_photo(f"{media_server.url}/media/ME9")
    media_server.respond(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
    requeue_media_downloads()
    attachment.refresh_from_db()
    assert attachment.state == "unavailable"
    assert "169.254.169.254 is not a media host" in attachment.unavailable_reason
    assert len(media_server.requests) == 1


def test_an_oversize_file_is_refused(media_server, twilio_photo, settings):
    settings.MEDIA_DOWNLOAD = {**settings.MEDIA_DOWNLOAD, "MAX_BYTES": len(PNG) - 1}
    attachment = twilio_photo(f"{media_server.url}/media/big")
    media_server.respond(200, PNG, {"Content-Type": "image/png"})
    requeue_media_downloads()
    attachment.refresh_from_db()
    assert attachment.state == "unavailable"
    assert attachment.unavailable_reason == (
        f"Download: The file is larger than the {len(PNG) - 1:,}-byte limit."
    )
    assert (attachment.size, attachment.file.name) == (0, "")


def test_the_api_shows_the_state(media_server, twilio_photo, agent, api_client):
    attachment = twilio_photo(f"{media_server.url}/media/ME9")
    api_client.force_authenticate(agent)
    url = f"/api/v1/conversations/{attachment.message.conversation_id}/messages/"
    [shown] = api_client.get(url).json()[0]["attachments"]
    assert (shown["state"], shown["size"]) == ("pending", 0)
    media_server.respond(200, PNG, {"Content-Type": "image/png"})
    requeue_media_downloads()
    [shown] = api_client.get(url).json()[0]["attachments"]
    assert (shown["state"], shown["size"], shown["content_type"]) == (
        "stored",
        len(PNG),
        "image/png",
    )
    assert shown["unavailable_reason"] == ""


def test_a_second_try_of_a_stored_file_does_nothing(media_server, twilio_photo):
    attachment = twilio_photo(f"{media_server.url}/media/ME9")
    media_server.respond(200, PNG, {"Content-Type": "image/png"})
    assert download_media([attachment.pk]) == ["stored"]
    assert download_media([attachment.pk]) == [""]
    assert len(media_server.requests) == 1


def test_the_files_of_one_message_are_fetched_side_by_side(
    media_server, team, django_capture_on_commit_callbacks
):
    ChannelFactory(
        slug="tw", kind="twilio", secret=SECRET, default_team=team, config={"account_sid": "AC1"}
    )
    params = {"MessageSid": "MM2", "From": "+14155550100", "To": "+14155238886", "Body": ""}
    params["NumMedia"] = "3"
    for n in range(3):
        params[f"MediaUrl{n}"] = f"{media_server.url}/media/ME{n}"
        params[f"MediaContentType{n}"] = "image/png"
        media_server.respond(200, PNG, {"Content-Type": "image/png"}, delay=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_twilio(provider_client(), "tw", params, secret=SECRET).status_code == 200
    ids = list(Attachment.objects.order_by("pk").values_list("pk", flat=True))
    began = time.monotonic()
    assert download_media(ids) == ["stored", "stored", "stored"]
    assert time.monotonic() - began < 2.5  # not one after the other (3 x 1 s)
    for attachment in Attachment.objects.all():
        assert_stored(attachment, PNG, "image/png")
    assert sorted(r.path for r in media_server.requests) == [f"/media/ME{n}" for n in range(3)]


def test_an_api_channel_attachment_url_is_downloaded_from_an_allowed_host(
    media_server, team, settings, django_capture_on_commit_callbacks
):
    from core.signing import sign

    settings.MEDIA_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's file host, named by an admin
    ChannelFactory(slug="partner", kind="api", secret=SECRET, default_team=team)
    body = json.dumps(
        {
            "id": "evt-7",
            "sender": {"id": "u-42", "name": "Ada"},
            "text": "The receipt",
            "attachments": [
                {"name": "receipt", "content_type": "image/png", "url": f"{media_server.url}/r.png"}
            ],
        }
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client().post(
            "/webhooks/api/partner/",
            data=body,
            content_type="application/json",
            HTTP_X_SIGNATURE=sign(SECRET, body),
        )
    assert response.status_code == 202, response.content
    media_server.respond(200, PNG, {"Content-Type": "image/png"})
    attachment = downloaded(Attachment.objects.get())
    assert_stored(attachment, PNG, "image/png")
    assert attachment.name == "receipt.png"


def test_a_channel_without_its_token_leaves_it_unavailable_in_words(
    media_server, team, django_capture_on_commit_callbacks
):
    ChannelFactory(slug="tg", kind="telegram", secret=SECRET, default_team=team, config={})
    body = {
        "update_id": 10,
        "message": {
            "message_id": 6,
            "from": {"id": 78, "is_bot": False, "first_name": "Bo"},
            "chat": {"id": 78, "first_name": "Bo", "type": "private"},
            "date": 1700000000,
            "document": {"file_name": "log.txt", "mime_type": "text/plain", "file_id": "BQAD-1"},
        },
    }
    attachment = received(post_telegram, "tg", body, django_capture_on_commit_callbacks)
    requeue_media_downloads()
    attachment.refresh_from_db()
    assert attachment.state == "unavailable"
    assert attachment.unavailable_reason == (
        "The channel has no bot token (config bot_token), so its media cannot be read."
    )
    assert media_server.requests == []


def test_a_media_drain_takes_the_waiting_files_of_many_messages(
    media_server, team, django_capture_on_commit_callbacks
):
    """Distributed mode's way: after a commit, one drain task takes every file not tried yet
    (here run directly; the suite's tasks are eager, where the sweep runs them instead)."""
    from inbox.intake import media

    ChannelFactory(
        slug="tw", kind="twilio", secret=SECRET, default_team=team, config={"account_sid": "AC1"}
    )
    for n in range(4):
        params = {"MessageSid": f"MM{n}", "From": f"+1415555010{n}", "To": "+14155238886"}
        params.update(NumMedia="1", MediaUrl0=f"{media_server.url}/m/{n}", Body="")
        with django_capture_on_commit_callbacks(execute=True):
            post_twilio(provider_client(), "tw", params, secret=SECRET)
        media_server.respond(200, PNG, {"Content-Type": "image/png"})
    assert media.drain() == 4
    assert set(Attachment.objects.values_list("state", "size")) == {("stored", len(PNG))}
    assert media.drain() == 0
