"""Celery tasks of the conversation core: the outbox's fan-out and its sweep. The wings keep
their own (inbox.intake.tasks, inbox.outbound.tasks; listed in CELERY_IMPORTS)."""

from celery import shared_task


@shared_task(acks_late=True)
def dispatch_events(event_ids: list[int]) -> int:
    from inbox.events import dispatch_batch
    from inbox.models import Event

    batch = list(Event.objects.filter(pk__in=event_ids, dispatched_at__isnull=True).order_by("pk"))
    dispatch_batch(batch)
    return len(batch)


@shared_task(acks_late=True)
def requeue_outbox() -> int:
    """Periodic: fan out outbox events that were written but not dispatched."""
    from inbox.events import dispatch_stalled

    return dispatch_stalled()
