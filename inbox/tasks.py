from celery import shared_task


@shared_task(acks_late=True)
def requeue_stalled() -> int:
    """Periodic: fan out outbox events that were committed but never dispatched."""
    from inbox.events import dispatch_stalled

    return dispatch_stalled()
