from celery import shared_task


@shared_task(name="tagging.tasks.retrain_tag_suggester")
def retrain_tag_suggester() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["tag-suggester-retrain"]): retrain the learned tag suggester
    when enough new agents' tagging arrived since its model (TAG_SUGGESTER_RETRAIN_AFTER)."""
    from tagging.learning import retrain_if_due

    result = retrain_if_due()
    if result is None:
        return {"trained": False}
    return {"trained": True, "name": result.name, "examples": result.examples}


@shared_task(name="tagging.tasks.check_spikes")
def check_spikes() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["spike-check"], every minute): raise, extend or close the
    incident spike alerts (tagging.spikes)."""
    from tagging.spikes import check_spikes as check

    return {"raised": [alert.pk for alert in check()]}
