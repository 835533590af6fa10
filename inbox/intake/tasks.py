"""Celery tasks of the way in. Names are pinned to where they lived before (inbox.tasks.*) so
queued work and beat entries survive a deploy."""

from celery import shared_task


@shared_task(name="inbox.tasks.process_inbound_event", acks_late=True, reject_on_worker_lost=True)
def process_inbound_event(event_id: int) -> str:
    from inbox.intake.processing import process_inbound_event as process

    return process(event_id=event_id).status


@shared_task(name="inbox.tasks.drain_inbound_events", acks_late=True, reject_on_worker_lost=True)
def drain_inbound_events(slot: int = 0) -> int:
    """Process every waiting inbound event (a batch at a time); sent by
    inbox.intake.queue.schedule_drain, at most one queued per slot; each slot starts at its own
    apply partition."""
    from inbox.intake.processing import drain
    from inbox.intake.queue import drain_started

    drain_started(slot)
    return drain(first=slot)


@shared_task(name="inbox.tasks.poll_imap_channels", acks_late=True)
def poll_imap_channels() -> dict:
    """Periodic: fetch new mail from every email channel with IMAP configured."""
    from inbox.intake.doors.email import poll_imap_channels as poll

    return poll()


@shared_task(name="inbox.intake.tasks.requeue_inbound", acks_late=True)
def requeue_inbound() -> int:
    """Periodic: re-send inbound events that were stored but not processed (broker down, worker
    killed)."""
    from inbox.intake.queue import requeue_unprocessed

    return requeue_unprocessed()


@shared_task(name="inbox.intake.tasks.lookup_contact_profiles", acks_late=True)
def lookup_contact_profiles() -> int:
    """Periodic, and sent after new Messenger or Instagram contacts arrived: fetch the profile
    names whose lookup is due (inbox.intake.profiles)."""
    from inbox.intake.profiles import run_due_lookups

    return run_due_lookups()


@shared_task(name="inbox.intake.tasks.download_media", acks_late=True, reject_on_worker_lost=True)
def download_media(attachment_ids: list[int]) -> list[str]:
    """Download customers' media the provider only referenced (inbox.intake.media), one try
    each."""
    from inbox.intake.media import download_many

    states = download_many(attachment_ids)
    return [states.get(pk, "") for pk in attachment_ids]


@shared_task(name="inbox.intake.tasks.requeue_media_downloads", acks_late=True)
def requeue_media_downloads() -> int:
    """Periodic: send the media downloads whose try is due."""
    from inbox.intake.media import requeue_due

    return requeue_due()


@shared_task(name="inbox.intake.tasks.drain_media", acks_late=True, reject_on_worker_lost=True)
def drain_media() -> int:
    """Download the customers' media waiting (inbox.intake.media.drain); sent by
    schedule_drain, at most one queued at a time."""
    from inbox.intake.media import drain

    return drain()
