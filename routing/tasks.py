from celery import shared_task


@shared_task(acks_late=True)
def hand_out_queue(team_id: int) -> int:
    from routing.auto_assignment import hand_out_queue as hand_out

    return hand_out(team_id=team_id)


@shared_task(acks_late=True)
def sla_sweep() -> dict:
    """Periodic (CELERY_BEAT_SCHEDULE["sla-sweep"]): raise due SLA warnings, breaches, reminders."""
    from routing.sla_sweep import sweep

    result = sweep()
    return {"warnings": result.warnings, "breaches": result.breaches, "reminders": result.reminders}


@shared_task(acks_late=True)
def recompute_sla(severity: int | None = None) -> int:
    from routing.sla_reactions import recompute_open

    return recompute_open(severity=severity)


@shared_task(acks_late=True)
def send_sla_mail(event_ids: list[int]) -> int:
    """The mails for a batch of SLA alert events (routing.sla_notify.mail_sla_events)."""
    from inbox.models import Event
    from routing.sla_notify import mail_sla_events

    return mail_sla_events(list(Event.objects.filter(pk__in=event_ids).order_by("pk")))


@shared_task(acks_late=True)
def mail_notifications() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE["notification-mail"]): mentions and assignments mailed to
    people who are away, at most one mail per person per ten minutes."""
    from routing.notification_mail import mail_waiting

    return mail_waiting()


@shared_task(acks_late=True)
def send_spike_mail(event_ids: list[int]) -> int:
    """Mail leads and admins about incident spikes (routing.spike_notify.mail_spikes)."""
    from routing.spike_notify import mail_spikes

    return mail_spikes(event_ids)
