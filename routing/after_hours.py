"""The after-hours reply: when a customer writes while the conversation's team is closed, the
channel answers once per conversation saying when the team is back.

    Channel.config = {"after_hours": {"enabled": true, "text": "Thanks for writing."}}

The message is the channel's text followed by "We are back on Monday at 09:00." (today /
tomorrow / a weekday, the time on the team's clock), computed from the team's business hours
(TeamPolicy.business_hours; a team with no calendar, or none at all, is always open so nothing is
sent) and written in the customer's language (inbox.languages: the contact's, else the
channel's, else the site's). It is loop-safe like the automatic
acknowledgement: on email it is refused for exactly what inbox.outbound.auto_ack.refusal refuses
(auto-replies, bounces, list mail, our own addresses), on every channel for automatic messages;
and it goes at most once per conversation (checked under the conversation's row lock), sent by
the system (sender.type "system", auto_kind auto_reply, Auto-Submitted on mail).
"""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from inbox import activity, events
from inbox import languages as customer_languages
from inbox.models import Activity, Channel, Conversation, Message
from inbox.outbound import auto_ack
from inbox.outbound.replies import queue_system_message
from routing import hours, reference

logger = logging.getLogger(__name__)
VERB = "after_hours_replied"


def settings_for(channel: Channel) -> dict:
    """The channel's after-hours settings, or {} when it has none switched on."""
    options = (channel.config or {}).get("after_hours") or {}
    if not isinstance(options, dict) or not options.get("enabled"):
        return {}
    if not str(options.get("text") or "").strip():
        return {}
    return options


MAX_TEXT = 5000


@transaction.atomic
def set_after_hours(*, actor, channel: Channel, enabled: bool, text: str) -> Channel:
    """Switch a channel's after-hours reply on or off and set its text (admins). A reply that is
    on needs a text; ValidationError keyed by `text`. Emits channel.updated."""
    from accounts.permissions import can_administer

    if not can_administer(actor):
        raise PermissionDenied(_("Channel settings are for admins."))
    text = (text or "").strip()
    if enabled and not text:
        raise ValidationError({"text": [_("Write the message to send after hours.")]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [_("At most 5,000 characters.")]})
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    config = dict(channel.config or {})
    config["after_hours"] = {"enabled": bool(enabled), "text": text}
    channel.config = config
    channel.save(update_fields=["config"])
    events.publish(
        "channel.updated",
        actor=actor,
        data={"channel": channel.pk, "slug": channel.slug, "fields": ["after_hours"]},
    )
    return channel


def refusal(channel: Channel, message: Message) -> str | None:
    """Why `message` must get no after-hours reply; None when it may (auto_ack's rules on mail)."""
    if channel.kind == Channel.Kind.EMAIL:
        return auto_ack.refusal(channel, message)
    if message.direction != Message.Direction.IN or message.kind != Message.Kind.MESSAGE:
        return "not an inbound customer message"
    if message.auto_kind:
        return f"the message is an automatic one ({message.auto_kind})"
    return None


def language_for(conversation: Conversation) -> str:
    """The customer's language (inbox.languages.for_customer)."""
    return customer_languages.for_customer(conversation.contact, conversation.channel)


def back_line(*, opening: dt.datetime, now: dt.datetime, zone: str, language: str) -> str:
    """ "We are back on Monday at 09:00." in `language`, on the team's clock."""
    local_open = opening.astimezone(ZoneInfo(zone))
    local_now = now.astimezone(ZoneInfo(zone))
    days = (local_open.date() - local_now.date()).days
    with translation.override(language):
        # The clock as the language writes it (Indonesian: 09.00), a date_format() format.
        time = date_format(local_open, pgettext("time of day, a date format", "H:i"))
        if days == 0:
            return _("We are back today at %(time)s.") % {"time": time}
        if days == 1:
            return _("We are back tomorrow at %(time)s.") % {"time": time}
        if days < 7:
            return _("We are back on %(day)s at %(time)s.") % {
                "day": date_format(local_open, "l"),
                "time": time,
            }
        return _("We are back on %(date)s at %(time)s.") % {
            "date": date_format(local_open, "l j F"),
            "time": time,
        }


def reply_after_hours(*, arrivals) -> None:
    """Hook on "messages_received": an after-hours reply for each customer message that arrives
    while its team is closed. Runs in the arrival's transaction, each in a savepoint: a failure
    is logged and never costs the customer's message."""
    for arrival in arrivals:
        conversation = arrival.conversation
        if not settings_for(conversation.channel):
            continue
        try:
            with transaction.atomic():
                send_after_hours_reply(
                    conversation_id=conversation.pk, inbound_message_id=arrival.message.pk
                )
        except Exception:
            logger.exception("after-hours reply for conversation %s failed", conversation.pk)


@transaction.atomic
def send_after_hours_reply(
    *, conversation_id: int, inbound_message_id: int, now: dt.datetime | None = None
) -> Message | None:
    """Queue the channel's after-hours reply to one inbound message, or return None (writing
    nothing) when the channel has none switched on, the team is open at `now`, the message is
    automatic or from an address auto_ack refuses, or the conversation had one already. Locks the
    conversation row, so two messages at once yield one reply. Writes Activity
    "after_hours_replied"; emits message.created."""
    now = now or timezone.now()
    conversation = (
        Conversation.objects.select_for_update()
        .select_related("channel", "contact")
        .get(pk=conversation_id)
    )
    options = settings_for(conversation.channel)
    if not options:
        return None
    policy = reference.team_policies().get(conversation.team_id)
    calendar = policy.business_hours if policy else None
    if hours.is_open(calendar, now):
        return None
    inbound = Message.objects.select_related("sender_contact").get(
        pk=inbound_message_id, conversation=conversation
    )
    why = refusal(conversation.channel, inbound)
    if why:
        logger.info("no after-hours reply on conversation %s: %s", conversation.pk, why)
        return None
    if Activity.objects.filter(conversation=conversation, verb=VERB).exists():
        return None
    text = str(options["text"]).strip()
    opening = hours.next_opening(calendar, now)
    if opening is not None and calendar is not None:
        line = back_line(
            opening=opening,
            now=now,
            zone=calendar.timezone,
            language=language_for(conversation),
        )
        text = f"{text}\n\n{line}"
    message = queue_system_message(
        conversation=conversation, text=text, auto_kind=Message.AutoKind.AUTO_REPLY, now=now
    )
    activity.record(
        conversation=conversation,
        actor=None,
        verb=VERB,
        to_value=message.pk,
        reason="automatic reply outside business hours",
    )
    return message
