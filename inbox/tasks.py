from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_inbound_event(event_id: int) -> str:
    from inbox.processing import process_inbound_event as process

    return process(event_id=event_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def drain_inbound_events(slot: int = 0) -> int:
    """Process every waiting inbound event (a batch at a time); sent by
    inbox.processing.schedule_drain, at most one queued per slot."""
    from inbox.processing import drain, drain_started

    drain_started(slot)
    return drain()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_message(message_id: int) -> str:
    from inbox.outbound import deliver

    return deliver(message_id=message_id).delivery_status


@shared_task(acks_late=True)
def dispatch_events(event_ids: list[int]) -> int:
    from inbox.events import dispatch_batch
    from inbox.models import Event

    batch = list(Event.objects.filter(pk__in=event_ids, dispatched_at__isnull=True).order_by("pk"))
    dispatch_batch(batch)
    return len(batch)


@shared_task(acks_late=True)
def requeue_stalled() -> dict:
    """Periodic: re-send stored-but-unprocessed inbound events, undispatched outbox events and
    outbound messages whose retry time has come."""
    from inbox.events import dispatch_stalled
    from inbox.outbound import requeue_due
    from inbox.processing import requeue_unprocessed

    return {
        "inbound": requeue_unprocessed(),
        "events": dispatch_stalled(),
        "outbound": requeue_due(),
    }


@shared_task(acks_late=True)
def poll_imap_channels() -> dict:
    """Periodic: fetch new mail from every email channel with IMAP configured."""
    from inbox.inbound_email import poll_imap_channels as poll

    return poll()
