"""The settings pages and the other agents' pages in Bahasa Indonesia (issue 23), rendered for an
admin whose profile says `id`: no English msgid of the catalogue (one whose Indonesian differs)
left in the page's text, the same scan the Chromium test runs on the inbox and a conversation.
Names people typed (channels, tags, teams, policies) are data and stay as written."""

import html
import re

import pytest
from django.test import Client

from accounts.models import ApiToken
from tests.accounts.factories import AdminFactory
from tests.i18n.test_browser_indonesian import english_left
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db

HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1>|<[^>]+>", re.S)


def visible(page: str) -> str:
    """The page's text, one line per text node, as a reader (or a screen reader) meets it."""
    text = html.unescape(HIDDEN.sub("\n", page))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


@pytest.fixture
def siti(client_for, team):
    admin = AdminFactory(username="siti", language="id")
    api = client_for(admin)
    telegram = api.post(
        "/api/v1/channels/",
        {"kind": "telegram", "slug": "bot", "name": "Bot", "config": {"bot_token": "1:A"}},
        format="json",
    )
    mail = ChannelFactory(kind="email", slug="mail", address="help@example.com", default_team=team)
    conversation = ConversationFactory(
        channel=mail, team=team, contact=ContactFactory(name="Budi"), subject="Pesanan 1042"
    )
    MessageFactory(conversation=conversation, text="Halo, pesanan saya belum sampai.")
    made = [
        telegram,
        api.post(
            "/api/v1/business-hours/",
            {
                "name": "Kantor",
                "timezone": "Asia/Jakarta",
                "weekly": {"mon": [["09:00", "17:00"]]},
                "teams": ["support"],
            },
            format="json",
        ),
        api.post(
            "/api/v1/canned-responses/",
            {"title": "Salam", "text": "Halo {{contact.name}}", "shortcut": "halo"},
            format="json",
        ),
        api.post(
            "/api/v1/routing-rules/",
            {
                "name": "Refund",
                "conditions": {"keywords": ["refund"], "severity_at_least": "high"},
                "actions": {"assign_team": "support", "set_severity": "critical"},
            },
            format="json",
        ),
        api.post(
            "/api/v1/macros/",
            {
                "name": "Tutup",
                "actions": [
                    {"kind": "set_severity", "value": "low"},
                    {"kind": "set_status", "value": "resolved"},
                ],
            },
            format="json",
        ),
    ]
    assert [r.status_code for r in made] == [201] * len(made), [r.content for r in made]
    client = Client()
    client.force_login(admin)
    return client, telegram.json()["id"], mail.pk, conversation.pk


SETTINGS = [
    "/inbox/settings/channels/",
    "/inbox/settings/channels/{telegram}/",
    "/inbox/settings/channels/{mail}/",
    "/inbox/settings/channels/add/email/",
    "/inbox/settings/channels/add/meta/",
    "/inbox/settings/channels/add/api/",
    "/inbox/settings/channels/add/chat/",
    "/inbox/settings/teams/",
    "/inbox/settings/hours/",
    "/inbox/settings/sla/",
    "/inbox/settings/rules/",
    "/inbox/settings/rules/classification/",
    "/inbox/settings/canned/",
    "/inbox/settings/macros/",
]
OTHERS = [
    "/inbox/",
    "/inbox/conversations/{conversation}/",
    "/inbox/profile/",
    "/inbox/board/",
    "/inbox/product/",
    "/inbox/ugc/",
    "/inbox/notifications/",
    "/reports/",
    "/settings/webhooks/",
    "/settings/tokens/",
]


@pytest.mark.parametrize("path", SETTINGS + OTHERS)
def test_the_page_has_no_english_left(siti, path):
    client, telegram, mail, conversation = siti
    url = path.format(telegram=telegram, mail=mail, conversation=conversation)
    response = client.get(url)
    assert response.status_code == 200
    assert '<html lang="id"' in response.content.decode()
    assert english_left(visible(response.content.decode())) == []


def test_severities_roles_and_groupings_are_words_not_codes(siti):
    client, _telegram, mail, conversation = siti
    inbox = visible(client.get("/inbox/").content.decode()).splitlines()
    assert "rendah" in inbox and "kritis" in inbox and "critical" not in inbox
    opened = client.get(f"/inbox/conversations/{conversation}/").content.decode()
    assert '<option value="critical">kritis</option>' in opened  # the value stays the API's word
    macros = visible(client.get("/inbox/settings/macros/").content.decode())
    assert "Atur tingkat keparahan: rendah" in macros and "Atur status: Selesai" in macros
    teams = visible(client.get("/inbox/settings/teams/").content.decode()).splitlines()
    assert "Anggota" in teams and "Member" not in teams
    reports = visible(client.get("/reports/").content.decode()).splitlines()
    assert {"Hari", "Minggu", "Bulan"} <= set(reports) and "Week" not in reports
    email = visible(client.get(f"/inbox/settings/channels/{mail}/").content.decode())
    assert "Tanpa enkripsi" in email
    client.post("/settings/tokens/", {"name": "CRM", "scopes": ["read", "write"]})
    tokens = visible(client.get("/settings/tokens/").content.decode()).splitlines()
    assert "Baca, Tulis" in tokens and "read, write" not in tokens


def test_a_refused_page_is_in_indonesian_too(agent):
    agent.language = "id"
    agent.save(update_fields=["language"])
    client = Client()
    client.force_login(agent)
    for url in ["/inbox/settings/channels/", "/inbox/settings/rules/", "/inbox/settings/sla/"]:
        response = client.get(url)
        assert response.status_code == 403
        text = visible(response.content.decode())
        assert "Tidak diizinkan" in text and english_left(text) == [], (url, text[-300:])


def test_the_webhook_and_token_pages_answer_in_indonesian(siti, settings):
    client, *_ = siti
    settings.WEBHOOK_DNS_OVERRIDES = {"hooks.example": ["93.184.216.34"]}
    refused = client.post("/settings/tokens/", {"name": "", "scopes": []})
    assert refused.status_code == 400
    text = visible(refused.content.decode())
    assert "Beri token nama" in text and english_left(text) == []
    missing = client.post("/settings/webhooks/", {"url": ""})
    assert "url: Masukkan URL." in missing.content.decode()
    client.post("/settings/tokens/", {"name": "CRM", "scopes": ["read"]})
    token = ApiToken.objects.get(name="CRM")
    revoked = client.post(f"/settings/tokens/{token.pk}/revoke/", follow=True)
    assert "Token CRM dicabut." in revoked.content.decode()
