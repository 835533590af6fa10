"""Celery tasks of the way out. deliver_message keeps its old name (inbox.tasks.*) so queued
work survives a deploy."""

from celery import shared_task


@shared_task(name="inbox.tasks.deliver_message", acks_late=True, reject_on_worker_lost=True)
def deliver_message(message_id: int) -> str:
    from inbox.outbound.delivery import deliver

    return deliver(message_id=message_id).delivery_status


@shared_task(name="inbox.outbound.tasks.requeue_outbound", acks_late=True)
def requeue_outbound() -> int:
    """Periodic: re-send outbound messages whose retry time has come."""
    from inbox.outbound.delivery import requeue_due

    return requeue_due()
