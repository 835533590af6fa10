from celery import shared_task


@shared_task(acks_late=True)
def hand_out_queue(team_id: int) -> int:
    from routing.services import hand_out_queue as hand_out

    return hand_out(team_id=team_id)


@shared_task(acks_late=True)
def sla_sweep() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["sla-sweep"]): raise due SLA warnings, breaches, reminders."""
    from routing.sla import sweep

    result = sweep()
    return {"warnings": result.warnings, "breaches": result.breaches, "reminders": result.reminders}


@shared_task(acks_late=True)
def recompute_sla(severity: int | None = None) -> int:
    from routing.sla import recompute_open

    return recompute_open(severity=severity)
