"""The periodic tasks (Celery beat, or the embedded scheduler thread): one table, read by
config/settings.py. tests/test_layout.py checks every entry names a registered task."""

from datetime import timedelta


def schedule(*, sla_sweep_seconds: float, tag_suggester_check_seconds: int) -> dict:
    return {
        "sla-sweep": {
            "task": "routing.tasks.sla_sweep",
            "schedule": timedelta(seconds=sla_sweep_seconds),
        },
        # One re-queue sweep per wing: stored inbound events, undispatched outbox events, outbound
        # messages due a retry. (inbox.tasks.requeue_stalled, the old hub, stays as an alias.)
        "requeue-inbound": {
            "task": "inbox.intake.tasks.requeue_inbound",
            "schedule": timedelta(seconds=60),
        },
        # Customers' media whose download retry is due (inbox.intake.media).
        "media-downloads-due": {
            "task": "inbox.intake.tasks.requeue_media_downloads",
            "schedule": timedelta(seconds=30),
        },
        "requeue-outbox": {"task": "inbox.tasks.requeue_outbox", "schedule": timedelta(seconds=60)},
        # Mentions and assignments mailed to people who are away (at most one mail per 10 minutes).
        "notification-mail": {
            "task": "routing.tasks.mail_notifications",
            "schedule": timedelta(seconds=60),
        },
        # Satisfaction surveys whose undo window has passed (the only way they go in embedded mode).
        "surveys-due": {
            "task": "reports.tasks.send_due_surveys",
            "schedule": timedelta(seconds=15),
        },
        "requeue-outbound": {
            "task": "inbox.outbound.tasks.requeue_outbound",
            "schedule": timedelta(seconds=60),
        },
        # Messenger and Instagram contacts' profile names, fetched once, retried with backoff.
        "contact-profiles": {
            "task": "inbox.intake.tasks.lookup_contact_profiles",
            "schedule": timedelta(seconds=30),
        },
        # Retrain the learned tag suggester when enough new agent tagging arrived (issue 24).
        "tag-suggester-retrain": {
            "task": "tagging.tasks.retrain_tag_suggester",
            "schedule": timedelta(seconds=tag_suggester_check_seconds),
        },
        # Incident spike alerts: a spike of watched tags or words is raised once (issue 24).
        "spike-check": {
            "task": "tagging.tasks.check_spikes",
            "schedule": timedelta(seconds=60),
        },
    }
