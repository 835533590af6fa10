"""Channel set-up without the Django admin (inbox.channel_settings) through its REST twin,
/api/v1/channels/{id}/...: generated secrets shown once, webhook URLs, connection tests against
local stand-ins for the providers (tests/support), rotation, disabling that keeps the history."""

import json
from pathlib import Path

import pytest

from inbox.models import Channel, Conversation, Event, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_telegram, provider_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/channels/"
UPDATE = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/webhooks/telegram/SH-W-014.json").read_text()
)


@pytest.fixture
def admin_api(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def telegram(admin_api, settings, http_server):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    settings.PUBLIC_BASE_URL = "https://inbox.example.com"
    response = admin_api.post(
        URL,
        {"kind": "telegram", "slug": "bot", "name": "Bot", "config": {"bot_token": "123:ABC"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_telegram_channel_gets_a_strong_secret_shown_once(telegram, admin_api, settings):
    secret = telegram["generated_secrets"]["secret"]
    assert len(secret) >= 43 and secret.replace("-", "").replace("_", "").isalnum()
    channel = Channel.objects.get(slug="bot")
    assert channel.secret == secret and channel.config == {"bot_token": "123:ABC"}
    assert telegram["webhook_url"] == "https://inbox.example.com/webhooks/telegram/bot/"
    shown = admin_api.get(f"{URL}{channel.pk}/").json()
    assert secret not in json.dumps(shown) and "123:ABC" not in json.dumps(shown)
    assert shown["secrets_set"] == {"bot_token": True, "secret": True}
    assert shown["has_connection_test"] is True
    # The door takes updates signed with the generated secret token, and no others.
    assert post_telegram(provider_client(), "bot", UPDATE, secret="wrong").status_code == 401
    assert post_telegram(provider_client(), "bot", UPDATE, secret=secret).status_code == 200


def test_the_telegram_test_calls_get_me_then_set_webhook_with_the_url(
    telegram, admin_api, http_server
):
    http_server.respond(200, {"ok": True, "result": {"id": 123, "username": "acme_bot"}})
    http_server.respond(200, {"ok": True, "result": True})
    pk = telegram["id"]
    result = admin_api.post(f"{URL}{pk}/test/").json()
    assert result["ok"] is True
    assert [c["step"] for c in result["checks"]] == ["getMe", "setWebhook"]
    assert result["checks"][0]["detail"] == "@acme_bot"
    get_me, set_webhook = http_server.requests
    assert get_me.path == "/bot123:ABC/getMe" and set_webhook.path == "/bot123:ABC/setWebhook"
    assert set_webhook.json() == {
        "url": "https://inbox.example.com/webhooks/telegram/bot/",
        "secret_token": telegram["generated_secrets"]["secret"],
    }


def test_a_wrong_bot_token_fails_the_test_in_words(telegram, admin_api, http_server):
    http_server.respond(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    result = admin_api.post(f"{URL}{telegram['id']}/test/").json()
    assert result["ok"] is False
    assert (
        result["checks"][0]["step"] == "getMe" and "Unauthorized" in result["checks"][0]["detail"]
    )
    assert len(http_server.requests) == 1  # no setWebhook after a failed getMe


def test_rotating_a_telegram_secret_tells_telegram_first(telegram, admin_api, http_server):
    pk = telegram["id"]
    old = telegram["generated_secrets"]["secret"]
    http_server.respond(200, {"ok": False, "description": "Bad Request: bad webhook"})
    refused = admin_api.post(f"{URL}{pk}/rotate-secret/", {}, format="json")
    assert refused.status_code == 400 and "secret" in refused.json()
    assert "bad webhook" in json.dumps(refused.json())
    assert Channel.objects.get(pk=pk).secret == old  # Telegram still sends the old one

    http_server.respond(200, {"ok": True, "result": True})
    rotated = admin_api.post(f"{URL}{pk}/rotate-secret/", {}, format="json")
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["generated_secrets"]["secret"]
    assert new != old and Channel.objects.get(pk=pk).secret == new
    assert http_server.requests[-1].json()["secret_token"] == new
    assert Event.objects.filter(type="channel.secret_rotated").count() == 1


def test_a_provider_secret_is_rotated_to_the_one_given(admin_api):
    channel = ChannelFactory(kind="twilio", slug="sms", secret="old", config={"account_sid": "AC1"})
    missing = admin_api.post(f"{URL}{channel.pk}/rotate-secret/", {}, format="json")
    assert missing.status_code == 400 and "Auth token" in missing.json()["secret"][0]
    given = admin_api.post(f"{URL}{channel.pk}/rotate-secret/", {"secret": "new"}, format="json")
    assert given.status_code == 200 and given.json()["generated_secrets"] == {}
    assert Channel.objects.get(pk=channel.pk).secret == "new"


def test_disabling_closes_the_door_and_keeps_the_history(
    telegram, admin_api, django_capture_on_commit_callbacks
):
    secret = telegram["generated_secrets"]["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(provider_client(), "bot", UPDATE, secret=secret)
    pk = telegram["id"]
    before = (Conversation.objects.count(), Message.objects.count())
    disabled = admin_api.post(f"{URL}{pk}/disable/")
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert post_telegram(provider_client(), "bot", UPDATE, secret=secret).status_code == 404
    assert (Conversation.objects.count(), Message.objects.count()) == before != (0, 0)
    assert admin_api.post(f"{URL}{pk}/enable/").json()["is_active"] is True


def test_an_update_keeps_blank_secrets_and_refuses_a_bad_callback(admin_api, team, settings):
    settings.WEBHOOK_DNS_OVERRIDES = {"a.example": ["93.184.216.34"]}
    channel = ChannelFactory(
        kind="api", slug="partner", secret="s", config={"callback_url": "https://a.example/"}
    )
    ok = admin_api.patch(
        f"{URL}{channel.pk}/", {"name": "Partner CRM", "team": "support"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["name"] == "Partner CRM" and ok.json()["team"] == "support"
    bad = admin_api.patch(
        f"{URL}{channel.pk}/", {"config": {"callback_url": "gopher://a.example/"}}, format="json"
    )
    assert bad.status_code == 400 and "callback_url" in bad.json()["config"]
    secret = admin_api.patch(f"{URL}{channel.pk}/", {"secret": ""}, format="json")
    assert secret.status_code == 400 and "secret" in secret.json()
    channel.refresh_from_db()
    assert channel.secret == "s" and channel.config == {"callback_url": "https://a.example/"}


def test_the_api_channel_test_posts_a_signed_ping_to_the_callback(admin_api, http_server, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    created = admin_api.post(
        URL,
        {
            "kind": "api",
            "slug": "partner",
            "name": "Partner",
            "config": {"callback_url": f"{http_server.url}/replies"},
        },
        format="json",
    ).json()
    result = admin_api.post(f"{URL}{created['id']}/test/").json()
    assert result["ok"] is True, result
    [ping] = http_server.requests
    assert ping.path == "/replies" and ping.json() == {"type": "ping", "channel": "partner"}
    assert ping.headers["x-signature"].startswith("t=")


def test_the_meta_test_runs_the_verify_token_round_trip(admin_api):
    created = admin_api.post(
        URL,
        {
            "kind": "meta",
            "slug": "page",
            "name": "Page",
            "secret": "app-secret",
            "config": {"access_token": "EAAB", "page_id": "42"},
        },
        format="json",
    ).json()
    token = created["generated_secrets"]["verify_token"]
    assert Channel.objects.get(slug="page").config["verify_token"] == token
    pk = created["id"]
    assert admin_api.post(f"{URL}{pk}/test/").json()["ok"] is True
    admin_api.post(f"{URL}{pk}/disable/")
    failed = admin_api.post(f"{URL}{pk}/test/").json()
    assert failed["ok"] is False and "404" in failed["checks"][0]["detail"]


def test_the_email_test_logs_in_to_smtp(admin_api, settings):
    from tests.support.smtp import LocalSMTPServer

    channel = ChannelFactory(kind="email", slug="mail", address="help@example.com")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "127.0.0.1", False, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    with LocalSMTPServer() as smtp:
        settings.EMAIL_PORT = smtp.port
        result = admin_api.post(f"{URL}{channel.pk}/test/").json()
    assert result["ok"] is True, result
    assert [c["step"] for c in result["checks"]] == ["IMAP login", "SMTP"]
    settings.EMAIL_PORT = smtp.port  # closed now
    result = admin_api.post(f"{URL}{channel.pk}/test/").json()
    assert result["ok"] is False and result["checks"][1]["step"] == "SMTP"


def test_the_email_test_logs_in_to_imap(admin_api):
    from tests.support.dovecot import Dovecot, dovecot_binary

    if not dovecot_binary():
        pytest.skip("dovecot-imapd is needed (installed by .ci/run)")
    with Dovecot() as dovecot:
        created = admin_api.post(
            URL,
            {
                "kind": "email",
                "slug": "mail",
                "name": "Mail",
                "address": "help@example.com",
                "config": {
                    "imap_host": "127.0.0.1",
                    "imap_port": str(dovecot.port),
                    "imap_security": "none",
                    "imap_username": dovecot.username,
                    "imap_password": dovecot.password,
                },
            },
            format="json",
        ).json()
        channel = Channel.objects.get(slug="mail")
        assert channel.config["imap"] == dovecot.config()
        pk = created["id"]
        result = admin_api.post(f"{URL}{pk}/test/").json()
        assert result["checks"][0] == {
            "step": "IMAP login",
            "ok": True,
            "detail": "help@127.0.0.1",
        }
        admin_api.patch(f"{URL}{pk}/", {"config": {"imap_password": "wrong"}}, format="json")
        result = admin_api.post(f"{URL}{pk}/test/").json()
        assert result["checks"][0]["ok"] is False


@pytest.mark.parametrize("user", ["agent", "lead", "viewer"])
def test_only_admins_see_or_change_a_channels_settings(client_for, request, user):
    channel = ChannelFactory(kind="api", slug="partner", secret="s")
    api = client_for(request.getfixturevalue(user))
    for method, path, body in [
        ("get", f"{URL}{channel.pk}/", None),
        ("patch", f"{URL}{channel.pk}/", {"name": "Mine"}),
        ("post", f"{URL}{channel.pk}/rotate-secret/", {}),
        ("post", f"{URL}{channel.pk}/test/", None),
        ("post", f"{URL}{channel.pk}/disable/", None),
        ("post", f"{URL}{channel.pk}/enable/", None),
    ]:
        assert getattr(api, method)(path, body, format="json").status_code == 403, path
    channel.refresh_from_db()
    assert channel.name != "Mine" and channel.secret == "s" and channel.is_active


def test_an_unknown_channel_is_404_for_an_admin(admin_api):
    for path in ["999/", "999/test/", "999/disable/", "999/rotate-secret/"]:
        method = admin_api.get if path == "999/" else admin_api.post
        assert method(f"{URL}{path}").status_code == 404


def test_the_channel_endpoints_are_in_the_openapi_schema(admin_api):
    schema = admin_api.get("/api/schema/?format=json").json()
    for path in [
        "/api/v1/channels/{id}/",
        "/api/v1/channels/{id}/rotate-secret/",
        "/api/v1/channels/{id}/test/",
        "/api/v1/channels/{id}/disable/",
    ]:
        assert path in schema["paths"], path


def test_a_chat_channel_takes_origins_one_a_line(admin_api):
    bad = admin_api.post(
        URL,
        {"kind": "chat", "slug": "site", "name": "Site", "config": {"allowed_origins": "nope"}},
        format="json",
    )
    assert bad.status_code == 400 and "allowed_origins" in bad.json()["config"]
    good = admin_api.post(
        URL,
        {
            "kind": "chat",
            "slug": "site",
            "name": "Site",
            "config": {"allowed_origins": "https://www.example.com\n\nhttps://shop.example.com"},
        },
        format="json",
    )
    assert good.status_code == 201 and good.json()["generated_secrets"] == {}
    assert Channel.objects.get(slug="site").config == {
        "allowed_origins": ["https://www.example.com", "https://shop.example.com"]
    }
    assert good.json()["webhook_url"] == "" and good.json()["has_connection_test"] is False


def test_a_twilio_webhook_url_is_the_one_twilio_signs(admin_api, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://hooks.example.com/"
    created = admin_api.post(
        URL,
        {
            "kind": "twilio",
            "slug": "sms",
            "name": "SMS",
            "secret": "auth-token",
            "address": "+15550001111",
            "config": {"account_sid": "AC123"},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["webhook_url"] == "https://hooks.example.com/webhooks/twilio/sms/"


def test_the_django_admin_refuses_a_signed_channel_without_a_secret(admin_user):
    from django.test import Client

    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    form = {"kind": "telegram", "slug": "bot", "name": "Bot", "secret": "", "address": ""}
    form |= {"public_key": "pk-admin-test", "config": "{}", "is_active": "on"}
    refused = client.post("/admin/inbox/channel/add/", form)
    assert refused.status_code == 200 and b"would fail without its secret" in refused.content
    assert not Channel.objects.exists()
    saved = client.post("/admin/inbox/channel/add/", {**form, "secret": "tg-secret"})
    assert saved.status_code == 302 and Channel.objects.get().secret == "tg-secret"


def test_an_unreachable_callback_url_is_refused_with_a_message(admin_api, settings):
    settings.WEBHOOK_DNS_OVERRIDES = {"gone.example": []}  # a name no DNS answers for
    refused = admin_api.post(
        URL,
        {
            "kind": "api",
            "slug": "partner",
            "name": "Partner",
            "config": {"callback_url": "https://gone.example/replies"},
        },
        format="json",
    )
    assert refused.status_code == 400, refused.content
    assert refused.json()["config"]["callback_url"] == ["The host gone.example does not resolve."]
    assert not Channel.objects.exists()
