from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_inbound_event(event_id: int) -> str:
    from inbox.processing import process_inbound_event as process

    return process(event_id=event_id).status


@shared_task(acks_late=True)
def requeue_stalled() -> dict:
    """Periodic: re-send stored-but-unprocessed inbound events and undispatched outbox events."""
    from inbox.events import dispatch_stalled
    from inbox.processing import requeue_unprocessed

    return {"inbound": requeue_unprocessed(), "events": dispatch_stalled()}
