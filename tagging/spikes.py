"""Incident spike alerts: conversations about a watched tag or word arriving much faster than
usual for that hour of the week.

What is counted: the distinct conversations that received a customer message (inbound, not a
note, not an auto-reply, not spam, automated or blocked) within the window ending now, and that
carry a watched tag (settings.SPIKE_TAGS) or whose message says a watch word (tagging.WatchWord,
as a whole word, case-insensitive). One customer writing ten times is one conversation.

The usual count: the median of the same window in each of the past SPIKE_BASELINE_WEEKS weeks (the
same hour of the week; weeks before any data count as none). The median, so that one past
incident at that hour does not hide the next. A spike is raised when the count reaches
max(SPIKE_MIN_COUNT, SPIKE_FACTOR x usual): the minimum keeps a quiet night's two or three
messages from alerting whatever the ratio.

Once per spike: at most one alert per watch is open (a partial unique constraint settles two
overlapping runs), and it stays open, gathering the spike's conversations, until the count falls
below CLOSE_RATIO of the threshold (hysteresis: a count hovering at the threshold does not open
and close alert after alert). Then a new spike may raise a new alert.

Raising writes the alert and its conversations and publishes `alert.spike` in one transaction;
after commit the outbox fans it out: the live feed, the bell and mail of leads and admins
(routing.spike_notify) and outbound webhooks (integrations). Run every minute by the beat
(tagging.tasks.check_spikes).
"""

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Substr
from django.utils import timezone

from inbox import events
from inbox.models import HIDDEN_STATUSES, Message
from tagging.models import ConversationTag, SpikeAlert, SpikeAlertConversation, Tag, WatchWord

EVENT = "alert.spike"
WEEK = timedelta(days=7)
CLOSE_RATIO = 0.5
SAMPLES = 10
SCAN_CHARS = 10_000  # a watch word is looked for at the start of a message, as rules do
WORD_ROWS = 20_000  # messages read per window for a watch word; a flood past it is a spike anyway


@dataclass(frozen=True)
class Watch:
    kind: str
    key: str
    tag_id: int | None = None


def watches() -> list[Watch]:
    """The watched tags that exist, then the active watch words."""
    tags = Tag.objects.filter(slug__in=settings.SPIKE_TAGS).values_list("slug", "pk")
    found = [Watch(SpikeAlert.Kind.TAG, slug, pk) for slug, pk in tags]
    words = WatchWord.objects.filter(is_active=True).values_list("word", flat=True)
    return found + [Watch(SpikeAlert.Kind.WORD, word.strip().lower()) for word in words]


def _inbound(start: datetime, end: datetime):
    return Message.objects.filter(
        created_at__gt=start,
        created_at__lte=end,
        direction=Message.Direction.IN,
        kind=Message.Kind.MESSAGE,
        auto_kind="",
    ).exclude(conversation__status__in=HIDDEN_STATUSES)


def _word_pattern(word: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


def matching(watch: Watch, start: datetime, end: datetime) -> list[int]:
    """The conversations counted for `watch` in (start, end]: ids, newest message first."""
    messages = _inbound(start, end).order_by("-created_at", "-id")
    if watch.kind == SpikeAlert.Kind.TAG:
        tagged = ConversationTag.objects.filter(
            conversation=OuterRef("conversation_id"), tag_id=watch.tag_id
        )
        ids = messages.filter(Exists(tagged)).values_list("conversation_id", flat=True)
        return list(dict.fromkeys(ids))
    pattern = _word_pattern(watch.key)
    rows = (
        messages.filter(text__icontains=watch.key)
        .annotate(start=Substr("text", 1, SCAN_CHARS))
        .values_list("conversation_id", "start")[:WORD_ROWS]
    )
    return list(dict.fromkeys(pk for pk, text in rows if pattern.search(text or "")))


@dataclass(frozen=True)
class Reading:
    conversations: list[int]
    baseline: float
    threshold: float

    @property
    def count(self) -> int:
        return len(self.conversations)


def read(watch: Watch, *, now: datetime) -> Reading:
    """The window's conversations, the usual count for that hour of the week, the threshold."""
    window = timedelta(minutes=settings.SPIKE["WINDOW_MINUTES"])
    current = matching(watch, now - window, now)
    history = [
        len(matching(watch, now - window - k * WEEK, now - k * WEEK))
        for k in range(1, settings.SPIKE["BASELINE_WEEKS"] + 1)
    ]
    baseline = float(statistics.median(history)) if history else 0.0
    threshold = max(float(settings.SPIKE["MIN_COUNT"]), settings.SPIKE["FACTOR"] * baseline)
    return Reading(current, baseline, threshold)


def check_spikes(*, now: datetime | None = None) -> list[SpikeAlert]:
    """Look at every watch once: raise, extend or close its alert. Returns the alerts raised.
    Safe to run twice at once: the second raise of a watch fails its unique constraint and is
    dropped with its event. Alerts of watches no longer watched are closed."""
    now = now or timezone.now()
    raised = []
    current = watches()
    for watch in current:
        alert = check_watch(watch, now=now)
        if alert is not None:
            raised.append(alert)
    watched = {(w.kind, w.key) for w in current}
    for alert in SpikeAlert.objects.filter(closed_at__isnull=True):
        if (alert.kind, alert.watch) not in watched:
            SpikeAlert.objects.filter(pk=alert.pk).update(closed_at=now)
    return raised


def _add_members(alert: SpikeAlert, conversation_ids: list[int]) -> None:
    SpikeAlertConversation.objects.bulk_create(
        [SpikeAlertConversation(alert=alert, conversation_id=pk) for pk in conversation_ids],
        ignore_conflicts=True,
    )


def check_watch(watch: Watch, *, now: datetime) -> SpikeAlert | None:
    """Raise an alert for `watch` when its count reaches the threshold and none is open; while
    one is open, add the window's conversations to it and keep its peak; close it once the
    count fell below CLOSE_RATIO of the threshold. Returns the alert raised now, if any."""
    reading = read(watch, now=now)
    with transaction.atomic():
        alert = (
            SpikeAlert.objects.select_for_update()
            .filter(kind=watch.kind, watch=watch.key, closed_at__isnull=True)
            .first()
        )
        if alert is not None:
            if reading.count < reading.threshold * CLOSE_RATIO:
                alert.closed_at = now
                alert.save(update_fields=["closed_at"])
            else:
                _add_members(alert, reading.conversations)
                if reading.count > alert.peak:
                    alert.peak = reading.count
                    alert.save(update_fields=["peak"])
            return None
        if reading.count < reading.threshold:
            return None
        try:
            with transaction.atomic():
                alert = SpikeAlert.objects.create(
                    kind=watch.kind,
                    watch=watch.key,
                    count=reading.count,
                    peak=reading.count,
                    baseline=reading.baseline,
                    threshold=reading.threshold,
                    window_minutes=settings.SPIKE["WINDOW_MINUTES"],
                    samples=reading.conversations[:SAMPLES],
                    opened_at=now,
                )
        except IntegrityError:
            return None  # another run raised this spike a moment ago
        _add_members(alert, reading.conversations)
        events.publish(EVENT, data=event_data(alert))
    return alert


def event_data(alert: SpikeAlert) -> dict:
    """The `alert.spike` payload (webhooks, the live feed): ids and figures, JSON-safe."""
    return {
        "alert": alert.pk,
        "kind": alert.kind,
        "watch": alert.watch,
        "count": alert.count,
        "baseline": alert.baseline,
        "threshold": alert.threshold,
        "window_minutes": alert.window_minutes,
        "opened_at": alert.opened_at.isoformat(),
        "conversations": list(alert.samples),
    }


def add_watch_word(*, word: str, actor) -> WatchWord:
    """Watch a word or phrase (stored lower-case; an existing one is switched back on)."""
    from django.core.exceptions import ValidationError

    word = " ".join(word.split()).lower()
    if not word or not any(ch.isalnum() for ch in word):
        raise ValidationError({"word": ["Give a word or phrase with letters or digits."]})
    found, created = WatchWord.objects.get_or_create(word=word, defaults={"created_by": actor})
    if not created and not found.is_active:
        found.is_active = True
        found.save(update_fields=["is_active"])
    return found


def remove_watch_word(*, word_id: int) -> None:
    """Stop watching a word; its open alert closes at the next check."""
    WatchWord.objects.filter(pk=word_id).delete()
