"""Inbound HTTP from providers: find the channel, verify, store the raw request, acknowledge.

A 2xx means the raw request is committed: processing happens after, in a task, so a crash or a
broker outage loses nothing (the re-queue sweep picks stored events up again).
"""

import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.views.decorators.csrf import csrf_exempt

from core.dbdeadline import database_deadline
from core.ratelimit import over_rate
from inbox.intake import admission
from inbox.intake.adapters import get_adapter
from inbox.intake.admission import (
    active_channel,
    error,
    inbound_rate,
    kept_headers,
)
from inbox.intake.queue import enqueue_processing, store_inbound
from inbox.models import Channel

logger = logging.getLogger(__name__)


@csrf_exempt
def receive(request, *, provider: str, channel_slug: str, kinds: tuple[str, ...]):
    """The Django door: admission.admit(), every check in its order, with blocking I/O.
    With INBOUND_ASGI_DOOR the ASGI server answers most webhook POSTs before Django
    (inbox.intake.doors.asgi) through the same admit(); this view serves the rest (the test
    client, SQLite, Twilio, handshakes)."""
    if request.method != "POST":
        return error(405, "method_not_allowed", "Use POST.")

    def io(step):
        match step:
            case admission.Count(key=key):
                return over_rate(key, inbound_rate())
            case admission.FindChannel(slug=slug, kinds=kinds):
                try:
                    with database_deadline(settings.INBOUND_DB_TIMEOUT):
                        return active_channel(slug, kinds)
                except DatabaseError as exc:
                    raise admission.StorageDown from exc
            case admission.ReadBody():
                try:
                    request.body  # noqa: B018 (Django refuses one over its limit as it reads)
                except Exception:  # RequestDataTooBig
                    return None
                return request
            case admission.Store(channel=channel, provider=provider):
                try:
                    # A database that does not answer is a 503 in time for the provider's retry.
                    with database_deadline(settings.INBOUND_DB_TIMEOUT):
                        event = store_inbound(
                            channel=channel,
                            provider=provider,
                            body=request.body,
                            headers=kept_headers(request),
                            query=request.META.get("QUERY_STRING", ""),
                            enqueue=False,
                        )
                except DatabaseError as exc:
                    raise admission.StorageDown from exc
                # Outside the deadline: with eager tasks the processing itself runs here.
                transaction.on_commit(lambda: enqueue_processing(event.pk))
                return event

    steps = admission.admit(
        provider=provider,
        slug=channel_slug,
        kinds=kinds,
        client=request.META.get("REMOTE_ADDR", ""),
        declared=request.META.get("CONTENT_LENGTH"),
    )
    return admission.answer(steps, io)


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
        with database_deadline(settings.INBOUND_DB_TIMEOUT):
            channel = Channel.objects.filter(
                slug=channel_slug, kind__in=kinds, is_active=True
            ).first()
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
