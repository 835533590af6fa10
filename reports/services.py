"""Writes of the reports app: satisfaction surveys sent on resolve and their single answer."""

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from inbox import activity, events
from inbox.models import Conversation, Status
from inbox.outbound.replies import queue_system_message
from reports.models import SatisfactionSurvey

logger = logging.getLogger(__name__)

DEFAULT_INVITATION = "Your conversation with us is resolved. How did we do?"


class SurveyError(Exception):
    """A survey answer that cannot be taken; the message is for the customer."""


class SurveyAlreadyAnswered(SurveyError):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def survey_settings(channel) -> dict:
    """The channel's survey settings, {} when it sends none.

    Channel.config = {"csat": {"enabled": true, "text": "How did we do?"}}
    """
    options = (channel.config or {}).get("csat") or {}
    if not isinstance(options, dict) or not options.get("enabled"):
        return {}
    return options


def survey_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("survey:answer", args=[token])


def send_survey_on_resolve(*, conversation: Conversation, changes: dict) -> None:
    """Hook on conversation_changed (inside the resolve's transaction). The survey does not go
    now: the agent has an "Undo" for RESOLVE_UNDO_SECONDS, so it is sent by a task once
    SURVEY_DELAY_SECONDS have passed, and only if the conversation is still resolved then. In
    embedded mode (no broker, no countdown) the `surveys-due` sweep sends it instead."""
    status = changes.get("status")
    if not status or status[1] != Status.RESOLVED:
        return
    if not survey_settings(conversation.channel):
        return
    conversation_id = conversation.pk
    transaction.on_commit(lambda: _schedule_survey(conversation_id))


def _schedule_survey(conversation_id: int) -> None:
    from core.tasks import enqueue
    from reports.tasks import send_survey_after_undo

    # A second later than the window, so a worker whose clock runs a little ahead finds it due.
    enqueue(send_survey_after_undo, conversation_id, countdown=settings.SURVEY_DELAY_SECONDS + 1)


def survey_due_before(now=None):
    """Resolved before this moment: the undo window is over."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.SURVEY_DELAY_SECONDS)


def send_survey_if_due(*, conversation_id: int) -> SatisfactionSurvey | None:
    """The delayed task's check: send only when the conversation is still resolved and has been
    for the whole undo window (an undo reopens it; a resolve, undo and resolve again restarts the
    wait, and that second resolve's own task sends it)."""
    resolved_at = (
        Conversation.objects.filter(pk=conversation_id, status=Status.RESOLVED)
        .values_list("resolved_at", flat=True)
        .first()
    )
    if resolved_at is None or resolved_at > survey_due_before():
        return None
    return send_survey(conversation_id=conversation_id)


def send_due_surveys(*, horizon_minutes: int = 60, limit: int = 500) -> int:
    """The sweep behind the countdown: surveys of conversations resolved between `horizon_minutes`
    ago and the end of the undo window that have none yet, on channels that send them. The horizon
    keeps a channel that switches surveys on from asking about old conversations."""
    from inbox.models import Channel

    channels = [c.pk for c in Channel.objects.only("pk", "config") if survey_settings(c)]
    if not channels:
        return 0
    due_before = survey_due_before()
    ids = list(
        Conversation.objects.filter(
            channel_id__in=channels,
            status=Status.RESOLVED,
            resolved_at__lte=due_before,
            resolved_at__gte=due_before - dt.timedelta(minutes=horizon_minutes),
            satisfaction_survey__isnull=True,
        )
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if send_survey_if_due(conversation_id=pk) is not None)


@transaction.atomic
def send_survey(*, conversation_id: int) -> SatisfactionSurvey | None:
    """Queue the satisfaction survey for a resolved conversation: a message to the customer on
    the conversation's own channel (email, chat widget, ...) with a link to a one-question page.

    Does nothing when the channel has surveys switched off or the conversation already had one
    (one survey per conversation, so a reopened and re-resolved conversation is not asked again).
    The link carries a 256-bit random token; only its SHA-256 is stored. The message is the
    system's (no sender_user): it is not an agent reply and stops no SLA clock. Writes the
    survey, the message and a `csat_sent` activity; emits message.created.
    """
    conversation = (
        Conversation.objects.select_for_update()
        .select_related("channel", "contact")
        .get(pk=conversation_id)
    )
    options = survey_settings(conversation.channel)
    if not options or conversation.status != Status.RESOLVED:
        return None
    if SatisfactionSurvey.objects.filter(conversation=conversation).exists():
        return None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = str(options.get("text") or DEFAULT_INVITATION).strip()
    message = queue_system_message(
        conversation=conversation,
        text=f"{invitation}\n\nRate us from 1 to 5 (one click, one question): {survey_url(token)}",
        # The link is the customer's alone: whoever holds it answers in their name. Agents see
        # that the survey went out, not the link (Message.text_for_agents).
        headers={"shown_to_agents": f"Satisfaction survey sent: {invitation}"},
        now=now,
    )
    survey = SatisfactionSurvey.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        contact=conversation.contact,
        token_hash=hash_token(token),
        message=message,
        sent_at=now,
    )
    activity.record(
        conversation=conversation,
        actor=None,
        verb="csat_sent",
        to_value=survey.pk,
        reason="satisfaction survey after resolve",
    )
    return survey


def survey_for_token(token: str) -> SatisfactionSurvey | None:
    if not token or len(token) > 100:
        return None
    return (
        SatisfactionSurvey.objects.select_related("conversation", "channel")
        .filter(token_hash=hash_token(token))
        .first()
    )


@transaction.atomic
def answer_survey(*, token: str, score, comment: str = "") -> SatisfactionSurvey:
    """Take the customer's one answer. Locks the survey row, so of two answers at once one wins.
    Raises SurveyError on an unknown token or a score outside 1-5, SurveyAlreadyAnswered on a
    second answer (the first stands). Writes a `csat_answered` activity; emits csat.answered."""
    survey = (
        SatisfactionSurvey.objects.select_for_update()
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if survey is None:
        raise SurveyError("This survey link is not valid.")
    if survey.answered_at is not None:
        raise SurveyAlreadyAnswered(
            "This survey has already been answered, so this answer was not recorded. "
            "Thank you for your feedback."
        )
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise SurveyError("Please choose a score from 1 to 5.") from None
    if not 1 <= score <= 5:
        raise SurveyError("Please choose a score from 1 to 5.")
    survey.score = score
    survey.comment = (comment or "").strip()[:5000]
    survey.answered_at = timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at"])
    conversation = Conversation.objects.get(pk=survey.conversation_id)
    activity.record(
        conversation=conversation,
        actor=None,
        verb="csat_answered",
        to_value=score,
        reason="satisfaction survey answered",
    )
    events.publish(
        "csat.answered",
        conversation=conversation,
        data={"survey": survey.pk, "score": score, "comment": bool(survey.comment)},
    )
    return survey
