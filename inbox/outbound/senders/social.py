"""What the social senders share: the customer-service window Meta and WhatsApp impose."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def window_refusal(conversation, *, provider: str) -> str | None:
    """Why a free-form reply may not go out now, or None: the customer must have written within
    the window (24 hours) before we answer."""
    hours = settings.SOCIAL_REPLY_WINDOW_HOURS
    last = conversation.last_inbound_at
    if last is None:
        return f"{provider} only accepts replies after the customer has written to us."
    if last < timezone.now() - timedelta(hours=hours):
        return (
            f"The {hours}-hour customer-service window is closed: the customer last wrote at "
            f"{last:%Y-%m-%d %H:%M} UTC, and {provider} only accepts replies within {hours} hours "
            "of the customer's last message. Wait for them to write again."
        )
    return None
