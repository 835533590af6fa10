"""Email doors other than the webhook: files and stdin (`ingest_email`), ESP inbound through
django-anymail, and IMAP polling. Each stores the raw mail as an InboundEvent (provider
"email") first; the one email adapter and `receive_message` do the rest."""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from inbox.adapters.email import external_id_for
from inbox.models import Channel, InboundEvent, Message
from inbox.processing import process_inbound_event

logger = logging.getLogger(__name__)

PROVIDER = "email"


@dataclass(frozen=True)
class Ingested:
    outcome: str  # ok, duplicate, quarantined
    conversation_id: int | None = None
    reason: str = ""

    def line(self) -> str:
        if self.outcome == "quarantined":
            return f"quarantined {' '.join(self.reason.split())}"
        return f"{self.outcome} {self.conversation_id}"


def _enqueue_on_commit(event_id: int) -> None:
    from inbox.webhooks import enqueue_processing

    transaction.on_commit(lambda: enqueue_processing(event_id))


def store_raw_email(
    *, channel: Channel | None, raw: bytes, source: str, error: str = "", enqueue: bool = True
) -> InboundEvent:
    """Store one raw mail as an InboundEvent (durable before anything else happens) and, on
    commit, queue its processing. With `error` (no channel matched) it is stored `failed`,
    listed for admins, never dropped."""
    with transaction.atomic():
        event = InboundEvent.objects.create(
            channel=channel,
            provider=PROVIDER,
            body=raw,
            headers={"source": source},
            received_at=timezone.now(),
            status=InboundEvent.Status.FAILED if error else InboundEvent.Status.RECEIVED,
            error=error,
        )
        if enqueue and not error:
            _enqueue_on_commit(event.pk)
    return event


def ingest_email(*, channel: Channel, raw: bytes, source: str = "file") -> Ingested:
    """Store one raw mail and process it now: `ok` with its conversation, `duplicate` with the
    conversation that already holds it, or `quarantined` with the reason (the event stays
    `failed` for `reprocess_inbound`). Auto-replies and bounces are stored and report `ok`."""
    event = store_raw_email(channel=channel, raw=raw, source=source, enqueue=False)
    event = process_inbound_event(event_id=event.pk)
    if event.status == InboundEvent.Status.FAILED:
        return Ingested("quarantined", reason=event.error or "unknown error")
    if event.status == InboundEvent.Status.DUPLICATE:
        conversation_id = (
            Message.objects.filter(channel=channel, external_id=external_id_for(raw))
            .values_list("conversation_id", flat=True)
            .first()
        )
        return Ingested("duplicate", conversation_id)
    conversation_id = event.messages.values_list("conversation_id", flat=True).first()
    return Ingested("ok", conversation_id)
