"""Signed requests as each social provider sends them, for the webhook tests."""

import json
from urllib.parse import urlencode

from django.test import Client

from inbox.intake.adapters import meta, twilio, x

TWILIO_HOST = "testserver"


def provider_client() -> Client:
    # Providers send no CSRF token: the webhook views must not need one.
    return Client(enforce_csrf_checks=True)


def post_meta(client, slug, body, *, secret):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {} if secret is None else {"HTTP_X_HUB_SIGNATURE_256": meta.sign(secret, body)}
    return client.post(
        f"/webhooks/meta/{slug}/", data=body, content_type="application/json", **headers
    )


def post_telegram(client, slug, body, *, secret):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {} if secret is None else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret}
    return client.post(
        f"/webhooks/telegram/{slug}/", data=body, content_type="application/json", **headers
    )


def post_twilio(
    client,
    slug,
    params,
    *,
    secret,
    url_base="http://testserver",
    content_type="application/x-www-form-urlencoded",
):
    path = f"/webhooks/twilio/{slug}/"
    body = params if isinstance(params, bytes) else urlencode(params).encode()
    headers = {}
    if secret is not None:
        pairs = twilio.form(body)
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio.sign(secret, url_base + path, pairs)
    return client.post(path, data=body, content_type=content_type, **headers)


def post_x(client, slug, body, *, secret):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = (
        {} if secret is None else {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": x.digest(secret, body)}
    )
    return client.post(
        f"/webhooks/x/{slug}/", data=body, content_type="application/json", **headers
    )
