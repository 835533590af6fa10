"""Writes of the reports app: the survey sent on resolve (CSAT, NPS or CES; reports.surveys says
which) and its single answer."""

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inbox import activity, events
from inbox.models import Contact, Conversation, Status
from inbox.outbound.replies import queue_system_message
from reports.models import SatisfactionSurvey
from reports.surveys import SCALES, channel_survey_options, survey_kind_for, survey_language

logger = logging.getLogger(__name__)


class SurveyError(Exception):
    """A survey answer that cannot be taken; the message is for the customer."""


class SurveyAlreadyAnswered(SurveyError):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


survey_settings = channel_survey_options


def recently_surveyed_before(now=None):
    """A customer sent any survey after this moment gets no other (SURVEY_MIN_INTERVAL_DAYS)."""
    return (now or timezone.now()) - dt.timedelta(days=settings.SURVEY_MIN_INTERVAL_DAYS)


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
    ago and the end of the undo window that have none yet, on channels that send them, of customers
    not surveyed in the last SURVEY_MIN_INTERVAL_DAYS. The horizon keeps a channel that switches
    surveys on from asking about old conversations."""
    from inbox.models import Channel

    channels = [c.pk for c in Channel.objects.only("pk", "config") if survey_settings(c)]
    if not channels:
        return 0
    due_before = survey_due_before()
    recent = SatisfactionSurvey.objects.filter(
        contact_id=OuterRef("contact_id"), sent_at__gt=recently_surveyed_before()
    )
    ids = list(
        Conversation.objects.exclude(Exists(recent))
        .filter(
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
    """Queue the survey for a resolved conversation: a message to the customer on the
    conversation's own channel (email, chat widget, ...) with a link to a one-question page, in
    the customer's language when known. The kind (CSAT, NPS or CES) is the team's choice, else
    the channel's (reports.surveys).

    Does nothing when the channel has surveys switched off, the conversation already had one
    (one survey per conversation, so a reopened and re-resolved conversation is not asked again)
    or its customer was sent any survey in the last SURVEY_MIN_INTERVAL_DAYS: the contact row is
    locked first, so two of the customer's conversations resolved at once send one survey.
    The link carries a 256-bit random token; only its SHA-256 is stored. The message is the
    system's (no sender_user): it is not an agent reply and stops no SLA clock. Writes the
    survey, the message and a `csat_sent` activity; emits message.created.
    """
    conversation = (
        Conversation.objects.select_for_update()
        .select_related("channel", "contact")  # the team is read lazily: a nullable join
        .get(pk=conversation_id)
    )
    options = survey_settings(conversation.channel)
    if not options or conversation.status != Status.RESOLVED:
        return None
    if SatisfactionSurvey.objects.filter(conversation=conversation).exists():
        return None
    now = timezone.now()
    Contact.objects.select_for_update().filter(pk=conversation.contact_id).first()
    if SatisfactionSurvey.objects.filter(
        contact_id=conversation.contact_id, sent_at__gt=recently_surveyed_before(now)
    ).exists():
        logger.info(
            "survey for conversation %s not sent: contact %s was surveyed in the last %s days",
            conversation.pk,
            conversation.contact_id,
            settings.SURVEY_MIN_INTERVAL_DAYS,
        )
        return None
    kind = survey_kind_for(conversation, options)
    scale = SCALES[kind]
    language = survey_language(conversation.contact, options, conversation.channel)
    token = secrets.token_urlsafe(32)
    own_text = str(options.get("text") or "").strip()
    channel_kind = options.get("kind") if options.get("kind") in SCALES else "csat"
    with translation.override(language or settings.LANGUAGE_CODE):
        # The channel's own words belong to the channel's own survey; another kind (a team's
        # choice) is introduced by that kind's standard, translated invitation.
        invitation = own_text if own_text and kind == channel_kind else str(scale.invitation)
        text = f"{invitation}\n\n" + str(scale.link) % {"url": survey_url(token)}
    message = queue_system_message(
        conversation=conversation,
        text=text,
        # The link is the customer's alone: whoever holds it answers in their name. Agents see
        # that the survey went out, not the link (Message.text_for_agents).
        headers={"shown_to_agents": str(scale.agents_see) % {"text": invitation}},
        now=now,
    )
    survey = SatisfactionSurvey.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        contact=conversation.contact,
        token_hash=hash_token(token),
        message=message,
        sent_at=now,
        kind=kind,
        language=language,
    )
    activity.record(
        conversation=conversation,
        actor=None,
        verb="csat_sent",
        to_value=survey.pk,
        reason=f"{kind} survey after resolve",
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
    Raises SurveyError on an unknown token or a score outside the survey's scale (1-5, 0-10 or
    1-7), SurveyAlreadyAnswered on a second answer (the first stands); the messages are in the
    active language. Writes a `csat_answered` activity; emits csat.answered for a CSAT survey
    and survey.answered for an NPS or CES one (the kind is in its data)."""
    survey = (
        SatisfactionSurvey.objects.select_for_update()
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if survey is None:
        raise SurveyError(_("This survey link is not valid."))
    if survey.answered_at is not None:
        raise SurveyAlreadyAnswered(
            _(
                "This survey has already been answered, so this answer was not recorded. "
                "Thank you for your feedback."
            )
        )
    scale = SCALES[survey.kind]
    out_of_scale = _("Please choose a score from %(low)s to %(high)s.") % {
        "low": scale.low,
        "high": scale.high,
    }
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise SurveyError(out_of_scale) from None
    if score not in scale.scores:
        raise SurveyError(out_of_scale)
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
        reason=f"{survey.kind} survey answered",
    )
    data = {"survey": survey.pk, "score": score, "comment": bool(survey.comment)}
    if survey.kind == SatisfactionSurvey.Kind.CSAT:
        events.publish("csat.answered", conversation=conversation, data=data)
    else:
        events.publish(
            "survey.answered", conversation=conversation, data={**data, "kind": survey.kind}
        )
    return survey
