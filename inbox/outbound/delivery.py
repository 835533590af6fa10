"""Delivering agents' replies. The schedule lives in the database (Message.next_attempt_at), so a
retry survives a broker outage or a killed worker: the re-queue sweep sends what is due."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.sendlock import OUTBOUND_MESSAGE, sending
from inbox import events
from inbox.models import Message
from inbox.outbound.senders import PermanentSendError, TransientSendError, get_sender

logger = logging.getLogger(__name__)

# About a day of retries: 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h.
BACKOFF = [30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800]


def enqueue_delivery(message_id: int, *, countdown: float | None = None) -> None:
    from core.tasks import enqueue
    from inbox.outbound.tasks import deliver_message

    enqueue(deliver_message, message_id, countdown=countdown)


def _finish(message: Message, **fields) -> None:
    Message.objects.filter(pk=message.pk).update(**fields)
    message.refresh_from_db()
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "delivery_status": message.delivery_status},
    )


def deliver(*, message_id: int) -> Message:
    """Send one queued outbound message once. Claims it with a conditional update so two workers
    never send the same message; records the outcome and schedules a retry when it may help.
    A claim left by a worker killed mid-send is taken over at once (core.sendlock)."""
    with sending(OUTBOUND_MESSAGE, message_id) as held:
        if held is False:  # a live worker is sending it right now
            return Message.objects.get(pk=message_id)
        return _deliver(message_id, take_over=bool(held))


def _deliver(message_id: int, *, take_over: bool) -> Message:
    now = timezone.now()
    claimed = (
        Message.objects.filter(
            pk=message_id,
            direction=Message.Direction.OUT,
            kind=Message.Kind.MESSAGE,
            delivery_status=Message.DeliveryStatus.QUEUED,
        )
        .filter(Q() if take_over else unclaimed(now))
        .update(send_claimed_at=now, send_attempts=F("send_attempts") + 1)
    )
    message = Message.objects.select_related("conversation__channel", "conversation__contact").get(
        pk=message_id
    )
    if not claimed:
        return message
    sender = get_sender(message.conversation.channel.kind)
    if sender is None:
        with transaction.atomic():
            _finish(
                message,
                delivery_status=Message.DeliveryStatus.FAILED,
                send_claimed_at=None,
                delivery_error=f"No sender for {message.conversation.channel.kind} channels yet.",
            )
        return message
    try:
        external_id = _send(sender, message)
    except TransientSendError as exc:
        attempt = message.send_attempts
        if attempt > len(BACKOFF):
            with transaction.atomic():
                _finish(
                    message,
                    delivery_status=Message.DeliveryStatus.FAILED,
                    send_claimed_at=None,
                    delivery_error=f"Gave up after {attempt} attempts: {exc}"[:4000],
                )
            return message
        delay = max(exc.retry_after or 0, BACKOFF[attempt - 1])
        Message.objects.filter(pk=message.pk).update(
            send_claimed_at=None,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            delivery_error=f"Attempt {attempt} failed, retrying: {exc}"[:4000],
        )
        enqueue_delivery(message.pk, countdown=delay)
        message.refresh_from_db()
        return message
    except PermanentSendError as exc:
        with transaction.atomic():
            _finish(
                message,
                delivery_status=Message.DeliveryStatus.FAILED,
                send_claimed_at=None,
                delivery_error=str(exc)[:4000],
            )
        return message
    except Exception as exc:  # a bug in a sender must not lose the message: retry like transient
        logger.exception("sender for message %s crashed", message.pk)
        Message.objects.filter(pk=message.pk).update(
            send_claimed_at=None,
            next_attempt_at=timezone.now() + timedelta(seconds=BACKOFF[0]),
            delivery_error=f"{exc.__class__.__name__}: {exc}"[:4000],
        )
        return message
    with transaction.atomic():
        fields = {
            "delivery_status": Message.DeliveryStatus.SENT,
            "delivery_error": "",
            "sent_at": timezone.now(),
            "send_claimed_at": None,
            "next_attempt_at": None,
        }
        if external_id:
            fields["external_id"] = external_id
        _finish(message, **fields)
    return message


def _send(sender, message: Message) -> str | None:
    """A WhatsApp template (Message.headers["template"]) goes out through the template flow,
    which the 24-hour window does not bind; every other message through its channel's sender."""
    if (message.headers or {}).get("template"):
        from inbox.outbound.senders.meta_templates import send_template

        return send_template(message)
    return sender.send(message)


def unclaimed(now) -> Q:
    # A claim older than ten minutes belongs to a worker that died mid-send.
    return Q(send_claimed_at__isnull=True) | Q(send_claimed_at__lt=now - timedelta(minutes=10))


def requeue_due(*, limit: int = 500) -> int:
    """Queued messages whose retry time has come (or that never reached a worker)."""
    now = timezone.now()
    due = list(
        Message.objects.filter(
            direction=Message.Direction.OUT,
            delivery_status=Message.DeliveryStatus.QUEUED,
            next_attempt_at__lte=now,
        )
        .filter(unclaimed(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        enqueue_delivery(message_id)
    return len(due)


@transaction.atomic
def retry_failed(*, message_id: int, actor) -> Message:
    """Send a failed reply again (the agent's Retry): back to queued with a fresh count of
    attempts, delivered by a worker after this commits. ActionRefused unless the message is an
    outbound reply that failed; PermissionDenied unless `actor` may change its conversation.
    Emits message.updated (queued), so every open page shows it is on its way again."""
    from core.errors import ActionRefused
    from inbox.services import lock_for_change

    message = Message.objects.select_related("conversation").get(pk=message_id)
    lock_for_change(conversation_id=message.conversation_id, actor=actor)
    retried = Message.objects.filter(
        pk=message.pk,
        direction=Message.Direction.OUT,
        kind=Message.Kind.MESSAGE,
        delivery_status=Message.DeliveryStatus.FAILED,
    ).update(
        delivery_status=Message.DeliveryStatus.QUEUED,
        delivery_error="",
        send_attempts=0,
        send_claimed_at=None,
        next_attempt_at=None,
    )
    if not retried:
        raise ActionRefused("Only a reply that failed can be sent again.")
    message.refresh_from_db()
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "delivery_status": message.delivery_status},
    )
    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message
