"""The UGC library (tagging.ugc) end to end: a customer's photo arrives through receive_message,
an agent tags the conversation `ugc`, asks permission with one click (the question goes out on
the conversation's own channel through its real sender, to the local fake provider or SMTP
server), records the answer, and only then is the full-size file given; the API lists the items
with their permission state, filtered by channel, date and state."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from inbox.intake.receive import receive_message
from inbox.models import Activity, Attachment, Conversation, Message
from inbox.normalized import AttachmentRef, NormalizedMessage, SenderRef
from tagging import services as tagging_services
from tagging import ugc
from tagging.models import Tag, UgcItem
from tests.inbox.factories import AttachmentFactory, ChannelFactory, MessageFactory
from tests.support.smtp import LocalSMTPServer

pytestmark = pytest.mark.django_db


def jpeg(width=1600, height=1200, color=(200, 40, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=90)
    return out.getvalue()


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def arrive(channel, *, sender, text, external_id, attachments=(), when=None):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind=channel.kind,
            external_id=external_id,
            thread_key="post-1" if channel.kind == "api" else None,
            sender=sender,
            text=text,
            html=None,
            attachments=tuple(attachments),
            sent_at=when or timezone.now() - dt.timedelta(seconds=1),
            subject="Look at my setup" if channel.kind == "email" else "",
        ),
    )


def tag_ugc(conversation, actor):
    tagging_services.apply_tags(
        conversation_id=conversation.pk, tags=[Tag.objects.get(slug="ugc")], actor=actor
    )


@pytest.fixture
def api_channel(http_server, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    return ChannelFactory(
        kind="api",
        slug="community",
        name="Community app",
        secret="cb-secret",
        default_team=team,
        config={"callback_url": f"{http_server.url}/replies"},
    )


@pytest.fixture
def smtp_server(settings):
    with LocalSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
        yield server


@pytest.fixture
def photo_post(api_channel, agent):
    """Dewi's photo, arrived on the community app's API channel and tagged `ugc`."""
    sender = SenderRef(kind="api", id="crm-7", name="Dewi Lestari")
    received = arrive(
        api_channel,
        sender=sender,
        text="My new desk setup with your lamp!",
        external_id="post-1-a",
        attachments=[
            AttachmentRef(name="desk.jpg", content_type="image/jpeg", content=jpeg()),
            AttachmentRef(name="story.pdf", content_type="application/pdf", content=b"%PDF-1.4\n"),
        ],
    )
    tag_ugc(received.conversation, agent)
    return received.conversation


def test_ask_then_grant_then_full_size_download_through_the_real_sender(
    photo_post, agent, http_server, django_capture_on_commit_callbacks
):
    client = browser_for(agent)
    photo = Attachment.objects.get(name="desk.jpg")
    refused = client.get(f"/inbox/ugc/media/{photo.pk}/download/")
    assert refused.status_code == 403
    assert "Only items whose customer granted permission" in refused.content.decode()
    assert "Not asked" in refused.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/inbox/ugc/{photo_post.pk}/ask/", follow=True)
    assert response.status_code == 200
    [request] = http_server.requests  # the community app's callback: the conversation's channel
    body = request.json()
    assert body["thread"] == "post-1" and body["recipient"] == {"id": "crm-7"}
    assert body["text"].startswith("Hi Dewi, we love what you shared")
    assert "Reply YES to agree" in body["text"]
    item = UgcItem.objects.get(conversation=photo_post)
    assert item.permission == "asked" and item.asked_by == agent and item.asked_at is not None
    assert item.asked_message.text == body["text"]
    assert item.asked_message.delivery_status == Message.DeliveryStatus.SENT
    page = client.get("/inbox/ugc/").content.decode()
    assert "Permission asked" in page and "Ask permission</button>" not in page
    assert client.get(f"/inbox/ugc/media/{photo.pk}/download/").status_code == 403

    again = client.post(f"/inbox/ugc/{photo_post.pk}/ask/", follow=True)
    assert "Not sent: Permission is already recorded here: Permission asked." in (
        again.content.decode()
    )
    assert len(http_server.requests) == 1  # one click, one question

    client.post(f"/inbox/ugc/{photo_post.pk}/permission/", {"permission": "granted"})
    item.refresh_from_db()
    assert item.permission == "granted" and item.decided_by == agent
    download = client.get(f"/inbox/ugc/media/{photo.pk}/download/")
    assert download.status_code == 200
    full = b"".join(download.streaming_content)
    assert Image.open(io.BytesIO(full)).size == (1600, 1200)
    assert "attachment" in download["Content-Disposition"]


def test_the_question_goes_out_by_mail_on_an_email_conversation(
    team, agent, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = ChannelFactory(
        kind="email", slug="help", address="help@support.example.com", default_team=team
    )
    sender = SenderRef(kind="email", id="rina@customer.example", name="Rina", verified=True)
    received = arrive(
        mailbox,
        sender=sender,
        text="Our team photo with the product",
        external_id="<photo-1@customer.example>",
        attachments=[AttachmentRef(name="team.jpg", content_type="image/jpeg", content=jpeg())],
    )
    tag_ugc(received.conversation, agent)
    with django_capture_on_commit_callbacks(execute=True):
        ugc.ask_permission(user=agent, conversation_id=received.conversation.pk)
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ["rina@customer.example"]
    assert "Hi Rina, we love what you shared" in sent.message.get_body(("plain",)).get_content()


def test_a_short_yes_after_the_question_grants_and_other_replies_do_not(
    photo_post, agent, api_channel, django_capture_on_commit_callbacks
):
    sender = SenderRef(kind="api", id="crm-7", name="Dewi Lestari")
    arrive(api_channel, sender=sender, text="yes", external_id="post-1-early")  # not asked yet
    assert not UgcItem.objects.filter(permission="granted").exists()
    with django_capture_on_commit_callbacks(execute=True):
        ugc.ask_permission(user=agent, conversation_id=photo_post.pk)
    arrive(api_channel, sender=sender, text="Yes, but only on Instagram", external_id="post-1-b")
    assert UgcItem.objects.get().permission == "asked"  # a condition: for a person to read
    answer = arrive(api_channel, sender=sender, text="Ya!", external_id="post-1-c")
    item = UgcItem.objects.get()
    assert item.permission == "granted" and item.decided_by is None
    assert item.answer_message == answer.message and item.decided_at is not None
    trail = list(
        Activity.objects.filter(verb="ugc_permission").values_list(
            "actor__username", "from_value", "to_value", "reason"
        )
    )
    assert trail == [
        ("alice", "not_asked", "asked", ""),
        (None, "asked", "granted", "read from the customer's reply"),
    ]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("YES", "granted"),
        ("ya boleh", "granted"),
        ("No thanks.", "refused"),
        ("tidak", "refused"),
        ("yes please feature my dog and my cat and my lamp", None),
        ("maybe", None),
        ("", None),
    ],
)
def test_short_answers_are_read_as_yes_or_no(text, expected):
    assert ugc.answer_in(text) == expected


def test_thumbnails_are_scaled_down_and_non_images_have_none(photo_post, viewer):
    client = browser_for(viewer)
    photo = Attachment.objects.get(name="desk.jpg")
    thumb = client.get(f"/inbox/ugc/media/{photo.pk}/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    pdf = Attachment.objects.get(name="story.pdf")
    assert client.get(f"/inbox/ugc/media/{pdf.pk}/thumbnail.jpg").status_code == 404
    # A file of a conversation not tagged ugc is not in the library.
    other = AttachmentFactory(message=MessageFactory(), content_type="image/jpeg")
    assert client.get(f"/inbox/ugc/media/{other.pk}/thumbnail.jpg").status_code == 404


def test_the_list_api_shows_permission_and_filters_by_channel_date_and_state(
    photo_post, agent, team, client_for
):
    mail = ChannelFactory(kind="email", slug="mail", default_team=team)
    old = arrive(
        mail,
        sender=SenderRef(kind="email", id="old@example.com", name="Old", verified=True),
        text="Throwback photo",
        external_id="<old@example.com>",
    ).conversation
    tag_ugc(old, agent)
    Conversation.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    ugc.set_permission(user=agent, conversation_id=old.pk, permission="refused")
    api = client_for(agent)

    listed = api.get("/api/v1/ugc/").json()["results"]
    assert [r["conversation"] for r in listed] == [photo_post.pk, old.pk]  # newest first
    first = listed[0]
    assert first["permission"] == "not_asked" and first["channel"] == "community"
    assert [m["name"] for m in first["media"]] == ["desk.jpg", "story.pdf"]
    assert first["media"][0]["thumbnail_url"].endswith("/thumbnail.jpg")
    assert first["media"][0]["download_url"] is None and first["media"][1]["thumbnail_url"] is None
    assert listed[1]["permission"] == "refused" and listed[1]["decided_by"] == "alice"

    def ids(query):
        response = api.get(f"/api/v1/ugc/?{query}")
        assert response.status_code == 200, response.content
        return [r["conversation"] for r in response.json()["results"]]

    assert ids("channel=mail") == [old.pk]
    since = (timezone.now() - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"created_after={since}") == [photo_post.pk]
    assert ids(f"created_before={since}") == [old.pk]
    assert ids("permission=refused") == [old.pk]
    assert ids("permission=not_asked") == [photo_post.pk]
    assert ids("page_size=1") == [photo_post.pk]
    page_two = api.get(api.get("/api/v1/ugc/?page_size=1").json()["next"]).json()
    assert [r["conversation"] for r in page_two["results"]] == [old.pk]

    bad = api.get(
        "/api/v1/ugc/?created_after=2026-05-01T00:00:00Z&created_before=2026-04-01T00:00:00Z"
    )
    assert bad.status_code == 400 and "reversed" in bad.json()["created_before"][0]
    unknown = api.get("/api/v1/ugc/?chanel=mail")
    assert unknown.status_code == 400 and "Unknown parameters: chanel." in unknown.json()["detail"]
    assert api.get("/api/v1/ugc/?permission=maybe").status_code == 400

    granted = api.post(f"/api/v1/ugc/{photo_post.pk}/permission/", {"permission": "granted"})
    assert granted.status_code == 200 and granted.json()["permission"] == "granted"
    assert granted.json()["media"][0]["download_url"].endswith("/download/")
    asked = api.post(f"/api/v1/ugc/{photo_post.pk}/ask/")
    assert asked.status_code == 400 and "already recorded" in asked.json()["detail"]


def test_the_list_api_is_in_the_openapi_schema(agent, client_for):
    schema = client_for(agent).get("/api/schema/?format=json").json()
    listed = schema["paths"]["/api/v1/ugc/"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {
        "channel",
        "created_after",
        "created_before",
        "permission",
    }
    item = schema["components"]["schemas"]["UgcItemOutput"]["properties"]
    assert {"permission", "asked_by", "decided_by", "media"} <= set(item)


def test_the_list_api_costs_a_fixed_number_of_queries(
    photo_post, agent, client_for, django_assert_max_num_queries
):
    api = client_for(agent)
    api.get("/api/v1/ugc/")  # session, content types warmed
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/ugc/").json()["results"]) == 1


def test_the_viewer_reads_the_api_but_may_not_ask_or_record(photo_post, viewer, client_for):
    api = client_for(viewer)
    assert [r["conversation"] for r in api.get("/api/v1/ugc/").json()["results"]] == [photo_post.pk]
    for url, data in [
        (f"/api/v1/ugc/{photo_post.pk}/ask/", {}),
        (f"/api/v1/ugc/{photo_post.pk}/permission/", {"permission": "granted"}),
    ]:
        refused = api.post(url, data)
        assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert not UgcItem.objects.exists()


def test_a_viewers_api_token_gets_a_ugc_file_in_full_only_once_granted(
    photo_post, viewer, agent, client_for
):
    """The API's attachment download (GET /api/v1/attachments/{id}/download/, token or session)
    keeps the library's rule for read-only roles; agents get the file for their work."""
    photo = Attachment.objects.get(name="desk.jpg")
    url = f"/api/v1/attachments/{photo.pk}/download/"
    refused = client_for(viewer).get(url)
    assert refused.status_code == 403
    assert "has not granted permission" in refused.json()["detail"]
    assert client_for(agent).get(url).status_code == 200
    UgcItem.objects.update_or_create(
        conversation=photo_post, defaults={"permission": "granted", "decided_by": agent}
    )
    granted = client_for(viewer).get(url)
    assert granted.status_code == 200
    assert b"".join(granted.streaming_content) == photo.file.open("rb").read()
