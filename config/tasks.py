"""Tasks that span the wings. Only the old re-queue hub lives here, for one release."""

from celery import shared_task


@shared_task(name="inbox.tasks.requeue_stalled", acks_late=True)
def requeue_stalled() -> dict:
    """Deprecated alias of the three sweeps (inbox.intake.tasks.requeue_inbound,
    inbox.tasks.requeue_outbox, inbox.outbound.tasks.requeue_outbound): beat entries and queued
    calls of the old name keep working for one release. Remove in 0.3."""
    from inbox.events import dispatch_stalled
    from inbox.intake.queue import requeue_unprocessed
    from inbox.outbound.delivery import requeue_due

    return {
        "inbound": requeue_unprocessed(),
        "events": dispatch_stalled(),
        "outbound": requeue_due(),
    }
