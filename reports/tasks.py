from celery import shared_task


@shared_task(acks_late=True)
def refresh_rollups() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["report-rollups"]): fold recent changes into the report
    rollups, or rebuild them when they were never built or a migration asked for it.
    Idempotent; a late or repeated run recomputes the same rows."""
    from reports.rollups import ensure_current

    return ensure_current()


@shared_task(acks_late=True)
def send_survey_after_undo(conversation_id: int) -> bool:
    """Scheduled on resolve with a countdown past the undo window: send the satisfaction survey if
    the conversation is still resolved. Idempotent (one survey per conversation)."""
    from reports.services import send_survey_if_due

    return send_survey_if_due(conversation_id=conversation_id) is not None


@shared_task(acks_late=True)
def send_due_surveys() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE["surveys-due"]): surveys whose countdown was not sent (embedded
    mode, broker down). Idempotent."""
    from reports.services import send_due_surveys as sweep

    return sweep()
