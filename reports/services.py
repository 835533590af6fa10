"""Writes of the reports app: satisfaction surveys sent on resolve and their single answer."""

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
    """Hook on conversation_changed (inside the resolve's transaction)."""
    status = changes.get("status")
    if not status or status[1] != Status.RESOLVED:
        return
    send_survey(conversation_id=conversation.pk)


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
