"""The UGC library page (/inbox/ugc/) through the Django test client: what it lists and in which
order, its filters and pages, and what each role may do there. The viewer (marketing) sees the
gallery and thumbnails, and is refused, in words, every page that changes a conversation and every
full-size file the customer did not grant."""

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from inbox.models import Conversation, Message
from tagging import ugc
from tagging.models import ConversationTag, Tag, UgcItem
from tests.accounts.factories import AdminFactory, AgentFactory, LeadFactory
from tests.inbox.factories import (
    AttachmentFactory,
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (900, 600), (20, 120, 200, 128)).save(out, "PNG")
    return out.getvalue()


def ugc_post(channel, *, subject, days_ago=0, files=()):
    conversation = ConversationFactory(channel=channel, subject=subject)
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    message = MessageFactory(conversation=conversation, text=subject)
    for name, content_type, data in files:
        AttachmentFactory(
            message=message,
            name=name,
            content_type=content_type,
            size=len(data),
            file__data=data,
            file__filename=name,
        )
    ConversationTag.objects.create(conversation=conversation, tag=Tag.objects.get(slug="ugc"))
    return conversation


@pytest.fixture
def library(team):
    mail = ChannelFactory(slug="mail", name="Mail", kind="email", default_team=team)
    insta = ChannelFactory(slug="insta", name="Instagram", kind="meta", default_team=team)
    return {
        "new": ugc_post(
            insta,
            subject="Sunset with the lamp",
            files=[("sunset.png", "image/png", png()), ("clip.mov", "video/quicktime", b"mov")],
        ),
        "mid": ugc_post(mail, subject="Unboxing video", days_ago=3),
        "old": ugc_post(mail, subject="Family photo", days_ago=30),
        "untagged": ConversationFactory(channel=mail, subject="Where is my order"),
    }


def titles_on(response) -> list[str]:
    items = response.context["items"]
    return [c.title for c in items]


def test_the_gallery_lists_ugc_newest_first_with_thumbnails_and_file_cards(agent, library):
    response = browser_for(agent).get("/inbox/ugc/")
    assert response.status_code == 200
    assert titles_on(response) == ["Sunset with the lamp", "Unboxing video", "Family photo"]
    page = response.content.decode()
    sunset = library["new"].messages.get().attachments.get(name="sunset.png")
    assert f'src="/inbox/ugc/media/{sunset.pk}/thumbnail.jpg"' in page
    assert 'class="ugc-file"' in page and "clip.mov" in page  # a file card, no thumbnail
    assert f'href="/inbox/conversations/{library["new"].pk}/"' in page
    assert "Where is my order" not in page
    assert "Permission not asked" in page and "Ask permission" in page
    assert "/download/" not in page  # nothing granted: no full-size link


def test_the_gallery_filters_by_channel_and_days_and_pages(agent, library):
    client = browser_for(agent)
    assert titles_on(client.get("/inbox/ugc/?channel=mail")) == ["Unboxing video", "Family photo"]
    three_days_ago = (timezone.now() - dt.timedelta(days=3)).date().isoformat()
    today = timezone.now().date().isoformat()
    assert titles_on(client.get(f"/inbox/ugc/?created_after={three_days_ago}")) == [
        "Sunset with the lamp",
        "Unboxing video",
    ]
    # The end day is included: "to today" keeps what arrived today.
    assert titles_on(client.get(f"/inbox/ugc/?created_before={today}&channel=insta")) == [
        "Sunset with the lamp"
    ]
    assert titles_on(client.get(f"/inbox/ugc/?created_before={three_days_ago}")) == [
        "Unboxing video",
        "Family photo",
    ]
    first = client.get("/inbox/ugc/?page_size=2")
    assert titles_on(first) == ["Sunset with the lamp", "Unboxing video"]
    assert titles_on(client.get(first.context["next"])) == ["Family photo"]
    reversed_range = client.get(f"/inbox/ugc/?created_after={today}&created_before=2020-01-01")
    assert reversed_range.status_code == 400
    assert "the dates are reversed" in reversed_range.content.decode()
    bad_day = client.get("/inbox/ugc/?created_after=2026-13-01")
    assert bad_day.status_code == 400
    assert "From: enter a day as YYYY-MM-DD." in bad_day.content.decode()
    assert client.get("/inbox/ugc/?created_before=9999-12-31").status_code == 200  # no overflow


def test_marking_granted_records_who_and_when_and_shows_the_download(agent, library):
    client = browser_for(agent)
    pk = library["new"].pk
    response = client.post(
        f"/inbox/ugc/{pk}/permission/",
        {"permission": "granted", "next": "/inbox/ugc/?channel=insta"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/inbox/ugc/?channel=insta"
    page = response.content.decode()
    assert "Permission recorded: Granted." in page and "Granted, recorded" in page
    item = UgcItem.objects.get(conversation_id=pk)
    assert item.decided_by == agent and timezone.now() - item.decided_at < dt.timedelta(minutes=1)
    assert "/download/" in page
    bad = client.post(f"/inbox/ugc/{pk}/permission/", {"permission": "maybe"}, follow=True)
    assert "Permission: Permission is one of" in bad.content.decode()
    assert UgcItem.objects.get(conversation_id=pk).permission == "granted"


def test_roles_that_see_the_gallery(library, lead, viewer):
    for user in (lead, viewer, AdminFactory(username="root"), AgentFactory(username="bob")):
        response = browser_for(user).get("/inbox/ugc/")
        assert response.status_code == 200
        expected = [] if user.username == "bob" else ["Sunset with the lamp"]
        assert titles_on(response)[:1] == expected  # bob is in no team: sees none of them
    assert "UGC library" in browser_for(viewer).get("/inbox/").content.decode()  # in the menu


def test_an_agent_cannot_act_on_items_outside_their_teams(library):
    outsider = AgentFactory(username="bob")
    client = browser_for(outsider)
    assert client.post(f"/inbox/ugc/{library['new'].pk}/ask/").status_code == 404
    assert client.post(f"/inbox/ugc/{library['new'].pk}/permission/").status_code == 404
    # Nor on a conversation that is not in the library.
    agent_client = browser_for(LeadFactory(username="lee", teams=[library["new"].team]))
    assert agent_client.post(f"/inbox/ugc/{library['untagged'].pk}/ask/").status_code == 404


def test_the_viewer_sees_thumbnails_but_no_actions_and_is_refused_in_words(viewer, library):
    client = browser_for(viewer)
    page = client.get("/inbox/ugc/").content.decode()
    assert "Ask permission" not in page and "Mark granted" not in page
    sunset = library["new"].messages.get().attachments.get(name="sunset.png")
    thumb = client.get(f"/inbox/ugc/media/{sunset.pk}/thumbnail.jpg")
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (320, 213)

    pk = library["new"].pk
    for url, data in [
        (f"/inbox/ugc/{pk}/ask/", {}),
        (f"/inbox/ugc/{pk}/permission/", {"permission": "granted"}),
    ]:
        refused = client.post(url, data)
        assert refused.status_code == 403
        assert "Your role is read-only" in refused.content.decode()
    assert not UgcItem.objects.exists()
    assert not Message.objects.filter(direction="out").exists()

    for url in (
        f"/inbox/ugc/media/{sunset.pk}/download/",
        f"/inbox/attachments/{sunset.pk}/download/",
    ):
        refused = client.get(url)
        assert refused.status_code == 403, url
        assert "granted permission" in refused.content.decode()

    ugc.set_permission(
        user=LeadFactory(teams=[library["new"].team]), conversation_id=pk, permission="granted"
    )
    for url in (
        f"/inbox/ugc/media/{sunset.pk}/download/",
        f"/inbox/attachments/{sunset.pk}/download/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content) == sunset.file.open("rb").read()


def test_the_viewer_is_refused_the_agents_pages_that_change_things(viewer, library):
    client = browser_for(viewer)
    pk = library["mid"].pk
    for url, data in [
        (f"/inbox/conversations/{pk}/reply/", {"text": "hello"}),
        (f"/inbox/conversations/{pk}/note/", {"text": "hello"}),
        (f"/inbox/conversations/{pk}/status/", {"status": "resolved"}),
        ("/inbox/availability/", {"availability": "online"}),
    ]:
        refused = client.post(url, data)
        assert refused.status_code == 403, url
        assert refused.content.decode().count("Not allowed") >= 1, url
        assert ("read-only" in refused.content.decode()) or (
            "Availability is for" in refused.content.decode()
        )
    board = client.get("/inbox/board/")
    assert (
        board.status_code == 403 and "The board is for leads and admins." in board.content.decode()
    )
    draft = client.post(
        f"/inbox/conversations/{pk}/draft/",
        data='{"kind": "message", "text": "hi"}',
        content_type="application/json",
    )
    assert draft.status_code == 403 and "read-only" in draft.json()["detail"]
    # Reading stays open to them: the conversation page and a file outside the library.
    assert client.get(f"/inbox/conversations/{pk}/").status_code == 200
    other = AttachmentFactory(message=MessageFactory(conversation=library["untagged"]))
    assert client.get(f"/inbox/attachments/{other.pk}/download/").status_code == 200


def test_the_gallery_costs_a_fixed_number_of_queries(agent, library, django_assert_max_num_queries):
    client = browser_for(agent)
    client.get("/inbox/ugc/")
    for days in range(5):
        ugc_post(
            library["old"].channel,
            subject=f"More {days}",
            days_ago=days,
            files=[("a.png", "image/png", b"x")],
        )
    with django_assert_max_num_queries(14):
        assert len(titles_on(client.get("/inbox/ugc/"))) == 8


def test_a_channel_that_cannot_send_now_refuses_the_question_in_words(agent, library):
    instagram = library["new"]  # a Meta channel: replies only within 24 hours of the customer
    Conversation.objects.filter(pk=instagram.pk).update(
        last_inbound_at=timezone.now() - dt.timedelta(days=2)
    )
    response = browser_for(agent).post(f"/inbox/ugc/{instagram.pk}/ask/", follow=True)
    assert "Not sent: The 24-hour customer-service window is closed" in response.content.decode()
    assert not UgcItem.objects.exists()  # still not asked
    assert not Message.objects.filter(direction="out").exists()
