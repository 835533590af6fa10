from celery import shared_task


@shared_task(acks_late=True)
def refresh_rollups() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["report-rollups"]): fold recent changes into the report
    rollups, or rebuild them when they were never built or a migration asked for it.
    Idempotent; a late or repeated run recomputes the same rows."""
    from reports.rollups import ensure_current

    return ensure_current()
