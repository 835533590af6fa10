from django.utils import timezone

from inbox.models import Activity, Conversation


def record(
    *,
    conversation: Conversation,
    actor,
    verb: str,
    from_value=None,
    to_value=None,
    reason: str = "",
) -> Activity:
    """Write one audit row. Called by services inside their transaction, nowhere else."""
    return Activity.objects.create(
        conversation=conversation,
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        from_value=from_value,
        to_value=to_value,
        reason=reason,
        created_at=timezone.now(),
    )
