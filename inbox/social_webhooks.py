"""Webhook URLs of the social and SMS providers. POSTs go through the shared door
(inbox.webhooks.receive); the GET handshakes (Meta's hub.challenge, X's CRC) are answered here."""

from django.db import DatabaseError
from django.views.decorators.csrf import csrf_exempt

from inbox.adapters import get_adapter
from inbox.models import Channel
from inbox.webhooks import error, receive


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
