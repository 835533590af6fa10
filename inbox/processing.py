"""Turning stored inbound events into messages. Idempotent: running it twice for one event, or
for two deliveries of one provider message, stores one message."""

import logging
from datetime import timedelta

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from inbox import events
from inbox.adapters import get_adapter
from inbox.models import InboundEvent, Message
from inbox.normalized import Ignored, MessageEdit, NormalizedMessage, StatusUpdate
from inbox.services import receive_message

logger = logging.getLogger(__name__)

ERROR_CHARS = 4000
TRANSIENT_ATTEMPTS = 10  # database errors retried by the sweep before the event is parked


def _apply_status(channel, update: StatusUpdate) -> bool:
    order = ["queued", "sent", "delivered", "read"]
    message = Message.objects.filter(channel=channel, external_id=update.external_id).first()
    if message is None:
        return False
    # Statuses arrive out of order; never move backwards (read, then a late "delivered").
    if (
        update.status in order
        and message.delivery_status in order
        and order.index(update.status) <= order.index(message.delivery_status)
    ):
        return False
    message.delivery_status = update.status
    message.delivery_error = update.error[:ERROR_CHARS]
    message.save(update_fields=["delivery_status", "delivery_error"])
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "delivery_status": update.status},
    )
    return True


def _apply_edit(channel, edit: MessageEdit) -> bool:
    message = Message.objects.filter(channel=channel, external_id=edit.external_id).first()
    if message is None or message.text == edit.text:
        return False
    if not message.original_text:
        message.original_text = message.text
    message.text = edit.text
    message.edited_at = edit.edited_at
    message.save(update_fields=["text", "original_text", "edited_at"])
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "edited": True},
    )
    return True


def process_inbound_event(*, event_id: int) -> InboundEvent:
    """Parse one stored event and apply what it carries. A failure marks the event `failed`
    with the error (listed for admins, retried by `reprocess_inbound`); nothing is dropped."""
    event = InboundEvent.objects.select_related("channel").get(pk=event_id)
    if event.status in (InboundEvent.Status.PROCESSED, InboundEvent.Status.DUPLICATE):
        return event
    try:
        with transaction.atomic():
            items = get_adapter(event.provider).parse(event)
            created = 0
            notes = []
            for item in items:
                if isinstance(item, NormalizedMessage):
                    created += receive_message(
                        channel=event.channel, message=item, inbound_event=event
                    ).created
                elif isinstance(item, StatusUpdate):
                    created += _apply_status(event.channel, item)
                elif isinstance(item, MessageEdit):
                    created += _apply_edit(event.channel, item)
                elif isinstance(item, Ignored):
                    notes.append(item.reason)
            status = (
                InboundEvent.Status.DUPLICATE
                if items and not created and not notes
                else InboundEvent.Status.PROCESSED
            )
            InboundEvent.objects.filter(pk=event.pk).update(
                status=status,
                processed_at=timezone.now(),
                attempts=F("attempts") + 1,
                error="; ".join(notes)[:ERROR_CHARS],
            )
    except (OperationalError, InterfaceError) as exc:
        # The database hiccuped (deadlock, failover, restart): not the message's fault. It stays
        # `received` and the re-queue sweep tries again; after enough tries it is parked as failed.
        logger.warning("inbound event %s hit a database error, will retry: %s", event.pk, exc)
        attempts = event.attempts + 1
        InboundEvent.objects.filter(pk=event.pk).update(
            status=InboundEvent.Status.FAILED
            if attempts >= TRANSIENT_ATTEMPTS
            else InboundEvent.Status.RECEIVED,
            attempts=attempts,
            error=f"{exc.__class__.__name__}: {exc}"[:ERROR_CHARS],
        )
    except Exception as exc:
        logger.warning("inbound event %s failed: %s", event.pk, exc)
        InboundEvent.objects.filter(pk=event.pk).update(
            status=InboundEvent.Status.FAILED,
            attempts=F("attempts") + 1,
            error=f"{exc.__class__.__name__}: {exc}"[:ERROR_CHARS],
        )
    event.refresh_from_db()
    return event


def requeue_unprocessed(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Send events that were stored but never processed (broker down, worker killed) again."""
    from inbox.webhooks import enqueue_processing

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        enqueue_processing(event_id)
    return len(ids)


def process_inbound_events(*, event_ids) -> None:
    for event_id in event_ids:
        process_inbound_event(event_id=event_id)
