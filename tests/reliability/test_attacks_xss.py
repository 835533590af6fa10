"""Script injection into the agents' UI (issue 11, "Attacks"), in a real Chromium.

Hostile values go in where customers and integrations put them (mail HTML through the real mail
parser, plain text, a chat message, contact name, subject, tag name and colour, attachment name,
webhook URL and description); every page an agent opens must run none of it. Every payload calls
alert(): Playwright reports any dialog, and any script error, on `page.problems`."""

import pytest

from inbox.intake.doors.email import ingest_email
from inbox.models import Conversation
from integrations.models import WebhookEndpoint
from tagging.models import Tag
from tests.accounts.factories import AdminFactory
from tests.inbox.factories import (
    AttachmentFactory,
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.tagging.factories import ConversationTagFactory
from tests.workspace.browser import login, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    '<script>alert("script")</script>',
    "<img src=x onerror=\"alert('onerror')\">",
    "<svg onload=\"alert('onload')\"></svg>",
    "<body onload=\"alert('body')\">",
    "<a href=\"jav&#x09;ascript:alert('entity')\">entity link</a>",
    "<a href=\"java\tscript:alert('tab')\">tab link</a>",
    "<a href=\"javascript:alert('js')\">js link</a>",
    "<a href=\"data:text/html,<script>alert('data')</script>\">data link</a>",
    "<iframe src=\"javascript:alert('frame')\"></iframe>",
    "<base href=\"javascript:alert('base')//\">",
    "<div style=\"background:url('javascript:alert(1)')\">css</div>",
    "<style>*{background:url(javascript:alert('css'))}</style>",
    '"><script>alert("attr")</script>',
    "</title><script>alert('title')</script>",
    "{{7*7}}<template><script>alert('tpl')</script></template>",
]
ALL = " ".join(PAYLOADS)


def hostile_mail(channel_address: str) -> bytes:
    html = "<html><head><title>x</title></head><body><p>Hello</p>" + ALL + "</body></html>"
    return (
        f'From: "{PAYLOADS[1]}" <mallory@evil.test>\r\nTo: {channel_address}\r\n'
        "Subject: =?utf-8?q?=3Cscript=3Ealert(=22subject=22)=3C/script=3E?=\r\n"
        "Message-ID: <xss-1@evil.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="a"\r\n\r\n'
        f"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{ALL}\r\n"
        f"--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--a--\r\n"
    ).encode()


@pytest.fixture
def hostile_world(support, settings):
    admin = user(AdminFactory, "root")
    mail_channel = ChannelFactory(
        slug="mail", kind="email", address="help@support.example.com", default_team=support
    )
    from_mail = ingest_email(channel=mail_channel, raw=hostile_mail(mail_channel.address))
    mailed = Conversation.objects.get(pk=from_mail.conversation_id)
    tag = Tag.objects.create(slug="hostile", name=PAYLOADS[0][:64], color="#f;}*{x")
    ConversationTagFactory(conversation=mailed, tag=tag)
    chat = ConversationFactory(
        channel=ChannelFactory(slug="site-chat", kind="chat", default_team=support),
        team=support,
        subject=PAYLOADS[13],
    )
    chat.contact.name = PAYLOADS[2] + PAYLOADS[12]
    chat.contact.save()
    message = MessageFactory(conversation=chat, text=ALL)
    AttachmentFactory(message=message, name=PAYLOADS[1] + ".html")
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/?q=\"><script>alert('url')</script>",
        secret="s",
        events=["message.created"],
        description=PAYLOADS[0],
    )
    return admin, mailed, chat


def assert_nothing_ran(page):
    # CSP reports (what the policy blocked) are logged as console errors; they are the defence
    # working. A dialog, or any other error, means something ran.
    ran = [p for p in page.problems if "Content Security Policy" not in p]
    assert ran == [], ran


def test_hostile_values_run_nowhere_in_the_agents_ui(page, server, hostile_world):
    _admin, mailed, chat = hostile_world
    login(page, server, "root")
    pages = [
        "/inbox/",
        "/inbox/?status=open&q=%3Cscript%3Ealert(1)%3C/script%3E",
        f"/inbox/conversations/{mailed.pk}/",
        f"/inbox/conversations/{chat.pk}/",
        f"/inbox/contacts/{chat.contact_id}/",
        f"/inbox/contacts/{mailed.contact_id}/",
        "/inbox/board/",
        "/inbox/product/",
        "/settings/webhooks/",
        f"/settings/webhooks/{WebhookEndpoint.objects.get().pk}/",
        "/settings/tokens/",
    ]
    for path in pages:
        response = page.goto(f"{server}{path}")
        assert response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        page.wait_for_load_state("load")
        for frame in page.locator("iframe.mail").all():  # the sandboxed mail bodies
            frame.wait_for(state="attached")
        buttons = page.get_by_role("button", name="Show remote images")
        for _ in range(buttons.count()):
            buttons.nth(0).click()  # each click removes its button
        page.wait_for_timeout(150)
        assert_nothing_ran(page)
        assert page.evaluate("document.querySelectorAll('base[href^=javascript]').length") == 0
    # The values are shown, as text.
    page.goto(f"{server}/inbox/conversations/{chat.pk}/")
    assert "<script>alert" in page.locator("body").inner_text()
    page.goto(f"{server}/inbox/conversations/{mailed.pk}/")
    for link in page.frame_locator("iframe.mail").first.locator("a").all():
        href = (link.get_attribute("href") or "").replace("\t", "").lower()
        assert not href.startswith(("javascript:", "data:", "vbscript:")), href
    assert_nothing_ran(page)


def test_url_fields_accept_only_http_and_https(client_for, admin_user, settings):
    api = client_for(admin_user)
    for url in (
        "javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://example.com/",
    ):
        response = api.post(
            "/api/v1/webhook-endpoints/",
            {"url": url, "events": ["message.created"]},
            format="json",
        )
        assert response.status_code == 400 and "url" in response.json(), url
    assert not WebhookEndpoint.objects.exists()
