"""Settings > Channels pages (admins): the same services as /api/v1/channels/, through forms."""

import re

import pytest
from django.test import Client

from inbox.models import Channel
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

LIST = "/inbox/settings/channels/"


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("user", ["agent", "lead", "viewer"])
def test_only_admins_open_channel_settings(request, user):
    channel = ChannelFactory(kind="api", slug="partner", secret="s")
    client = Client()
    client.force_login(request.getfixturevalue(user))
    for path in [LIST, f"{LIST}add/telegram/", f"{LIST}{channel.pk}/"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"{LIST}{channel.pk}/active/", {"active": "0"}).status_code == 403
    assert Channel.objects.get(pk=channel.pk).is_active


def test_the_telegram_form_asks_only_what_telegram_needs(admin_client):
    page = admin_client.get(f"{LIST}add/telegram/").content.decode()
    form = page[page.index('class="panel settings-form"') :]
    form = form[: form.index("</form>")]
    names = set(re.findall(r'name="([a-z_]+)"', form)) - {"csrfmiddlewaretoken"}
    # No secret (generated); the customers' language is every channel's.
    assert names == {"name", "slug", "team", "bot_token", "address", "language"}
    assert admin_client.get(f"{LIST}add/fax/").status_code == 404


def test_a_channel_added_by_form_shows_its_secret_once(admin_client, settings, team):
    settings.PUBLIC_BASE_URL = "https://inbox.example.com"
    response = admin_client.post(
        f"{LIST}add/telegram/",
        {"name": "Bot", "slug": "bot", "team": "support", "bot_token": "123:ABC"},
    )
    channel = Channel.objects.get(slug="bot")
    assert response.status_code == 302 and response["Location"] == f"{LIST}{channel.pk}/"
    assert channel.default_team == team and len(channel.secret) >= 43
    first = admin_client.get(f"{LIST}{channel.pk}/").content.decode()
    assert channel.secret in first
    assert 'value="https://inbox.example.com/webhooks/telegram/bot/"' in first
    again = admin_client.get(f"{LIST}{channel.pk}/").content.decode()
    assert channel.secret not in again and "123:ABC" not in again


def test_a_form_missing_what_the_provider_needs_is_refused_naming_the_field(admin_client):
    response = admin_client.post(f"{LIST}add/telegram/", {"name": "Bot", "slug": "bot"})
    assert response.status_code == 400
    assert "Bot token (from @BotFather) is needed for this provider." in response.content.decode()
    response = admin_client.post(
        f"{LIST}add/api/",
        {"name": "P", "slug": "p", "callback_url": "ftp://partner.example.com/"},
    )
    assert response.status_code == 400
    assert "Only http and https URLs can be called." in response.content.decode()
    assert not Channel.objects.exists()


def test_the_edit_form_keeps_a_blank_token_and_disable_keeps_the_channel(admin_client):
    channel = ChannelFactory(kind="telegram", slug="bot", secret="s", config={"bot_token": "1:A"})
    saved = admin_client.post(f"{LIST}{channel.pk}/", {"name": "Support bot", "bot_token": ""})
    assert saved.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Support bot" and channel.config == {"bot_token": "1:A"}
    admin_client.post(f"{LIST}{channel.pk}/active/", {"active": "0"})
    channel.refresh_from_db()
    assert channel.is_active is False
    assert "Disabled" in admin_client.get(LIST).content.decode()


def test_the_test_button_shows_each_step(admin_client, settings, http_server):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    channel = ChannelFactory(kind="telegram", slug="bot", secret="s", config={"bot_token": "1:A"})
    http_server.respond(200, {"ok": True, "result": {"id": 1, "username": "acme_bot"}})
    http_server.respond(
        200, {"ok": False, "description": "Bad Request: HTTPS url must be provided"}
    )
    admin_client.post(f"{LIST}{channel.pk}/test/")
    page = admin_client.get(f"{LIST}{channel.pk}/").content.decode()
    assert "getMe</strong>: passed — @acme_bot" in page
    assert "setWebhook</strong>: failed — Bad Request: HTTPS url must be provided" in page


def test_rotating_a_provider_secret_needs_the_new_one(admin_client):
    channel = ChannelFactory(kind="x", slug="x", secret="old", config={"access_token": "t"})
    refused = admin_client.post(f"{LIST}{channel.pk}/rotate/", {"secret": ""}, follow=True)
    assert "Paste the new Consumer secret from the provider." in refused.content.decode()
    admin_client.post(f"{LIST}{channel.pk}/rotate/", {"secret": "new"})
    assert Channel.objects.get(pk=channel.pk).secret == "new"


def test_an_unreachable_callback_is_refused_in_the_admins_language(
    admin_client, admin_user, settings
):
    settings.WEBHOOK_DNS_OVERRIDES = {"gone.example": []}
    admin_user.language = "id"
    admin_user.save(update_fields=["language"])
    response = admin_client.post(
        f"{LIST}add/api/",
        {"name": "P", "slug": "p", "callback_url": "https://gone.example/replies"},
    )
    assert response.status_code == 400
    assert "Host gone.example tidak ditemukan di DNS." in response.content.decode()
    assert not Channel.objects.exists()
