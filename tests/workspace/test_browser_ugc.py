"""In headless Chromium: an agent opens the UGC library, asks a customer for permission with one
click (the question reaches the local stand-in of the customer's API channel), marks another
item granted and gets its full-size link. The browser, server and helpers are those of
test_browser.py; a screenshot of the gallery lands in tests/artifacts/ugc-gallery.png."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from inbox.models import Conversation
from tagging.models import ConversationTag, Tag, UgcItem
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    AttachmentFactory,
    ChannelFactory,
    ContactFactory,
    ContactIdentityFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user, wait_for = browser.login, browser.shot, browser.user, browser.wait_for


def picture(size, sky, ground, sun) -> bytes:
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([0, h * 2 // 3, w, h], fill=ground)
    draw.ellipse([w // 2, h // 6, w // 2 + h // 4, h // 6 + h // 4], fill=sun)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def post(channel, tag, *, name, subject, days_ago, files):
    contact = ContactFactory(name=name)
    ContactIdentityFactory(contact=contact, kind=channel.kind, external_id=f"{name.lower()}-1")
    conversation = ConversationFactory(
        channel=channel, contact=contact, subject=subject, thread_key=f"t-{name}"
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    message = MessageFactory(conversation=conversation, text=subject)
    for filename, content_type, data in files:
        AttachmentFactory(
            message=message,
            name=filename,
            content_type=content_type,
            size=len(data),
            file__data=data,
            file__filename=filename,
        )
    ConversationTag.objects.create(conversation=conversation, tag=tag)
    return conversation


def test_an_agent_asks_permission_marks_one_granted_and_sees_the_gallery(
    page, server, support, http_server, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    tag, _ = Tag.objects.get_or_create(
        slug="ugc", defaults={"name": "User-generated content", "color": "#6b46c1"}
    )
    user(AgentFactory, "alice", teams=[support], first_name="Alice")
    app = ChannelFactory(
        slug="community",
        name="Community app",
        kind="api",
        secret="s",
        default_team=support,
        config={"callback_url": f"{http_server.url}/replies"},
    )
    mail = ChannelFactory(slug="mail", name="Mail", kind="email", default_team=support)
    dewi = post(
        app,
        tag,
        name="Dewi",
        subject="My desk setup with your lamp",
        days_ago=0,
        files=[
            ("desk.jpg", "image/jpeg", picture((1600, 1200), "#f6ad55", "#744210", "#fff5f7")),
            ("night.jpg", "image/jpeg", picture((1200, 1600), "#2a4365", "#1a202c", "#faf089")),
        ],
    )
    rina = post(
        mail,
        tag,
        name="Rina",
        subject="Team photo at the launch",
        days_ago=2,
        files=[
            ("team.jpg", "image/jpeg", picture((1800, 1000), "#9ae6b4", "#22543d", "#fefcbf")),
            ("story.pdf", "application/pdf", b"%PDF-1.4\n% the story\n"),
        ],
    )
    post(mail, tag, name="Budi", subject="Loved the support, five stars", days_ago=5, files=[])

    page.set_default_timeout(15000)  # the gallery decodes and scales images on first view
    login(page, server, "alice", "/inbox/ugc/")
    assert page.get_by_role("heading", level=1).inner_text() == "UGC library"
    items = page.locator(".ugc-item")
    assert items.count() == 3
    assert items.nth(0).get_by_role("link").first.inner_text() == "My desk setup with your lamp"
    thumbs = page.locator(".ugc-thumb img")
    assert thumbs.count() == 3
    wait_for(lambda: page.evaluate("[...document.images].every(i => i.complete)"))
    # Thumbnails, scaled down on the server: no full-size image reached the browser.
    assert page.evaluate("Math.max(...[...document.images].map(i => i.naturalWidth))") <= 320

    dewi_item = page.locator(f'.ugc-item[data-conversation="{dewi.pk}"]')
    dewi_item.get_by_role("button", name="Ask permission").click()
    page.wait_for_selector(f'.ugc-item[data-conversation="{dewi.pk}"][data-permission="asked"]')
    assert "Permission asked" in dewi_item.inner_text()
    [request] = wait_for(lambda: http_server.requests)
    assert request.json()["text"].startswith("Hi Dewi, we love what you shared")

    rina_item = page.locator(f'.ugc-item[data-conversation="{rina.pk}"]')
    rina_item.get_by_role("button", name="Mark granted").click()
    page.wait_for_selector(f'.ugc-item[data-conversation="{rina.pk}"][data-permission="granted"]')
    assert rina_item.get_by_role("link", name="Full size").count() == 1
    assert rina_item.get_by_role("link", name="Download").count() == 1  # the PDF's card
    assert dewi_item.get_by_role("link", name="Full size").count() == 0
    assert UgcItem.objects.get(conversation=rina).decided_by.username == "alice"
    wait_for(lambda: page.evaluate("[...document.images].every(i => i.complete)"))
    shot(page, "ugc-gallery")
    assert page.problems == []
