"""Inbound HTTP from providers: find the channel, verify, store the raw request, acknowledge.

A 2xx means the raw request is committed: processing happens after, in a task, so a crash or a
broker outage loses nothing (the re-queue sweep picks stored events up again).
"""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.views.decorators.csrf import csrf_exempt

from core.ratelimit import over_rate
from inbox.intake.adapters import get_adapter
from inbox.intake.admission import (
    active_channel,
    declared_length,
    error,
    inbound_rate,
    inbound_rate_key,
    rate_limited,
    refusal,
    too_large,
    unavailable,
    unknown_channel,
)
from inbox.intake.queue import store_inbound
from inbox.models import Channel

logger = logging.getLogger(__name__)


@csrf_exempt
def receive(request, *, provider: str, channel_slug: str, kinds: tuple[str, ...]):
    """The shared webhook door: 404 unknown channel, 413 too big, 401 bad signature,
    400 malformed, 503 when the database cannot store it; otherwise the adapter's ack.
    On PostgreSQL the ASGI server answers most webhook POSTs before Django (inbox.accept), with
    the same checks; this view serves the rest (the test client, SQLite, Twilio, handshakes)."""
    if request.method != "POST":
        return error(405, "method_not_allowed", "Use POST.")
    wait = over_rate(
        inbound_rate_key(channel_slug, request.META.get("REMOTE_ADDR", "")), inbound_rate()
    )
    if wait:
        return rate_limited(wait)
    if declared_length(request.META.get("CONTENT_LENGTH")) > settings.INBOUND_MAX_BYTES:
        return too_large()
    try:
        channel = active_channel(channel_slug, kinds)
    except DatabaseError:
        return unavailable()
    if channel is None:
        return unknown_channel(channel_slug)
    try:
        request.body  # noqa: B018 (read it now: Django refuses one over its limit here)
    except Exception:  # RequestDataTooBig raised while reading
        return too_large()
    refused = refusal(request, provider=provider, channel=channel)
    if refused is not None:
        return refused
    try:
        event = store_inbound(request=request, channel=channel, provider=provider)
    except DatabaseError:
        logger.exception("could not store %s webhook", provider)
        return unavailable()
    return get_adapter(provider).ack(request, event)


@csrf_exempt
def api_webhook(request, channel):
    return receive(request, provider="api", channel_slug=channel, kinds=(Channel.Kind.API,))


@csrf_exempt
def email_raw_webhook(request, channel):
    return receive(request, provider="email", channel_slug=channel, kinds=(Channel.Kind.EMAIL,))
def handshake(request, *, provider: str, channel_slug: str, kinds: tuple[str, ...]):
    """A provider proving the URL is ours before it sends anything: 404 unknown channel,
    otherwise the adapter's answer. Nothing is stored."""
    try:
        channel = Channel.objects.filter(slug=channel_slug, kind__in=kinds, is_active=True).first()
    except DatabaseError:
        return error(503, "unavailable", "Storage is unavailable; retry later.")
    if channel is None:
        return error(404, "unknown_channel", f"No channel {channel_slug!r} for this provider.")
    return get_adapter(provider).handshake(request, channel)


@csrf_exempt
def meta_webhook(request, channel):
    if request.method == "GET":
        return handshake(request, provider="meta", channel_slug=channel, kinds=(Channel.Kind.META,))
    return receive(request, provider="meta", channel_slug=channel, kinds=(Channel.Kind.META,))


@csrf_exempt
def telegram_webhook(request, channel):
    return receive(
        request, provider="telegram", channel_slug=channel, kinds=(Channel.Kind.TELEGRAM,)
    )


@csrf_exempt
def twilio_webhook(request, channel):
    return receive(request, provider="twilio", channel_slug=channel, kinds=(Channel.Kind.TWILIO,))


@csrf_exempt
def x_webhook(request, channel):
    if request.method == "GET":
        return handshake(request, provider="x", channel_slug=channel, kinds=(Channel.Kind.X,))
    return receive(request, provider="x", channel_slug=channel, kinds=(Channel.Kind.X,))
