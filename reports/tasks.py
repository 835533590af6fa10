from celery import shared_task


@shared_task(acks_late=True)
def refresh_rollups() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["report-rollups"]): fold recent changes into the report
    rollups. Idempotent; a late or repeated run recomputes the same rows."""
    from reports.rollups import refresh

    return refresh()
