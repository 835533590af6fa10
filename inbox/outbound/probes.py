"""Connection tests for channel set-up (inbox.channel_settings) that use the way out: Telegram's
Bot API (getMe, then setWebhook with our webhook URL and the channel's secret token), the SMTP
relay replies leave through, and the API channel's callback URL. Registered from inbox.apps."""

from django.conf import settings
from django.utils.translation import gettext as _

from inbox.channel_settings import Check
from inbox.models import Channel
from inbox.outbound.senders import SendError
from inbox.outbound.senders.http import call, json_body, path_segment


def _bot_url(token: str, method: str) -> str:
    token = path_segment(token, what="bot token")
    return f"{settings.TELEGRAM_API_BASE_URL.rstrip('/')}/bot{token}/{method}"


def _bot_call(token: str, method: str, body: dict | None = None) -> dict:
    """One Bot API call; raises SendError with Telegram's description when it is not ok."""
    data = json_body(
        call("POST", _bot_url(token, method), provider="Telegram", json=body or {}),
        provider="Telegram",
    )
    if not data.get("ok"):
        raise SendError(str(data.get("description") or _("Telegram answered not ok")))
    return data


def set_telegram_webhook(channel: Channel, url: str, secret: str) -> str | None:
    """setWebhook(url, secret_token): None when Telegram took it, else why not."""
    token = (channel.config or {}).get("bot_token") or ""
    if not token:
        return _("no bot token")
    try:
        _bot_call(token, "setWebhook", {"url": url, "secret_token": secret})
    except SendError as exc:
        return str(exc)
    return None


def probe_telegram(channel: Channel, url: str) -> list[Check]:
    token = (channel.config or {}).get("bot_token") or ""
    if not token:
        return [Check("getMe", False, _("No bot token."))]
    try:
        me = _bot_call(token, "getMe").get("result") or {}
    except SendError as exc:
        return [Check("getMe", False, str(exc))]
    checks = [Check("getMe", True, "@" + str(me.get("username") or me.get("id") or "?"))]
    refused = set_telegram_webhook(channel, url, channel.secret)
    checks.append(Check("setWebhook", refused is None, refused or url))
    return checks


def probe_smtp(channel: Channel, url: str) -> list[Check]:
    """Open (and close) a connection to the relay replies from this mailbox leave through."""
    from inbox.outbound.senders.email import connection_for

    step = _("SMTP")
    try:
        connection = connection_for(channel)
    except SendError as exc:
        return [Check(step, False, str(exc))]
    host = getattr(connection, "host", None)
    if host is None:  # an ESP's HTTP API or a test backend: nothing to log in to
        return [
            Check(
                step,
                True,
                _("Sent through %(backend)s.") % {"backend": type(connection).__module__},
            )
        ]
    try:
        connection.open()
        connection.close()
    except OSError as exc:  # smtplib.SMTPException is an OSError too
        return [Check(step, False, f"{host}:{connection.port}: {exc}")]
    return [Check(step, True, f"{host}:{connection.port}")]


def probe_api_callback(channel: Channel, url: str) -> list[Check]:
    """POST a signed {"type": "ping"} to the callback URL, through the SSRF guard, as replies go."""
    import json

    from core import safe_http
    from core.signing import sign

    callback = (channel.config or {}).get("callback_url")
    step = _("Callback URL")
    if not callback:
        return [Check(step, False, _("No callback URL: replies cannot be delivered."))]
    body = json.dumps({"type": "ping", "channel": channel.slug}).encode()
    headers = {"Content-Type": "application/json", "X-Signature": sign(channel.secret, body)}
    result = safe_http.post(str(callback), body=body, headers=headers)
    if result.status_code is not None and 200 <= result.status_code < 300:
        return [Check(step, True, _("Answered %(status)s.") % {"status": result.status_code})]
    why = result.error or (_("answered %(status)s") % {"status": result.status_code})
    return [Check(step, False, why)]
