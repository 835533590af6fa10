"""The conversation thread as the agent reads it (templates/ui/_thread.html): messages in groups,
as in Chatwoot and Front, with a separator before each calendar day in the agent's time zone.

A group is a run of messages by the same person, in the same direction and of the same kind (a
private note or a message the product sent by itself never joins an agent's replies), each less
than GROUP_GAP after the one before it, on the same day. Its first message carries the avatar
and the meta line; the others sit tighter below it. The whole thread is rendered here on every
load and every live refresh (static/js/app.js refreshThread re-fetches it when a message arrives,
static/js/panes.js swaps the pane after a reply), so a message added live is grouped exactly as
on a reload."""

import datetime as dt
import re
import zlib
from dataclasses import dataclass, replace
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

GROUP_GAP = dt.timedelta(minutes=5)
# Avatar backgrounds: static/css/app.css .tone-0 ... .tone-9, each at least 4.5:1 against the
# white initials (WCAG AA for small text).
AVATAR_TONES = 10

_WORD_BREAKS = re.compile(r"[\s._\-+]+")


def person_initials(name: str) -> str:
    """One or two letters for an avatar: "Ann Lee" -> "AL", "ann.lee@example.com" -> "AL",
    "Madonna" -> "M", "@ann_lee" -> "AL". A phone number or a name without letters gives "" (the
    avatar shows a person glyph instead)."""
    text = str(name or "").strip().lstrip("@")
    if "@" in text:
        text = text.split("@", 1)[0]
    letters = [word[0] for word in _WORD_BREAKS.split(text) if word and word[0].isalpha()]
    if not letters:
        return ""
    if len(letters) == 1:
        return letters[0].upper()
    return (letters[0] + letters[-1]).upper()


def avatar_tone(name: str) -> int:
    """A stable colour per person: the same name always gets the same one of AVATAR_TONES."""
    return zlib.crc32(str(name or "").strip().casefold().encode()) % AVATAR_TONES


def day_label(day: dt.date, today: dt.date) -> str:
    """A day in words: "Today", "Yesterday", "Mon 7 Dec" this year, "Mon 7 Dec 2025" before
    (times.js writes the same words and keeps them right past midnight)."""
    if day == today:
        return _("Today")
    if day == today - dt.timedelta(days=1):
        return _("Yesterday")
    return date_format(day, "D j M" if day.year == today.year else "D j M Y")


@dataclass(frozen=True)
class DaySeparator:
    day: dt.date
    label: str
    is_separator = True


@dataclass(frozen=True)
class ThreadMessage:
    message: Any
    author: str
    first: bool  # opens its group: the avatar and the meta line
    last: bool  # closes its group
    initials: str
    tone: int
    is_separator = False


def _author(message, contact) -> tuple[Any, str]:
    """Who wrote it, as (identity for grouping, display name)."""
    if message.sender_user_id:
        return ("user", message.sender_user_id), message.sender_user.display_name
    if message.sent_by_system:
        return ("system",), message.system_sender_name
    person = message.sender_contact or contact
    return ("contact", getattr(person, "pk", None)), str(person)


def thread_entries(messages, *, contact, now: dt.datetime | None = None) -> list:
    """The thread's items in order: DaySeparator before each day's first message, and every
    message as a ThreadMessage saying where its group starts and ends."""
    today = timezone.localdate(now or timezone.now())
    entries: list = []
    previous = None  # (key, created_at, day) of the message before
    for message in messages:
        identity, author = _author(message, contact)
        key = (identity, message.direction, message.kind, message.sent_by_system)
        day = timezone.localdate(message.created_at)
        if previous is None or previous[2] != day:
            entries.append(DaySeparator(day=day, label=day_label(day, today)))
        joins = (
            previous is not None
            and previous[0] == key
            and previous[2] == day
            and not message.sent_by_system
            and message.created_at - previous[1] < GROUP_GAP
        )
        if joins:
            entries[-1] = replace(entries[-1], last=False)
        entries.append(
            ThreadMessage(
                message=message,
                author=author,
                first=not joins,
                last=True,
                initials=person_initials(author),
                tone=avatar_tone(author),
            )
        )
        previous = (key, message.created_at, day)
    return entries
