"""Business-hours calendars: is a team open, and clock arithmetic in business time.

All arithmetic happens on UTC instants: local opening hours are turned into UTC intervals day by
day through zoneinfo, so a 09:00-17:00 day is 8 hours on the days clocks change too, and a
weekend or holiday contributes nothing.
"""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from routing.models import BusinessHours

MAX_DAYS = 3 * 366  # a calendar with no open hours for three years is misconfigured
UTC = dt.UTC


def _parse(value: str) -> dt.time | None:
    return None if value == "24:00" else dt.time.fromisoformat(value)


@lru_cache(maxsize=4096)
def _day_intervals(tz: str, weekly_key: tuple, holidays: frozenset, day: dt.date) -> tuple:
    if day.isoformat() in holidays:
        return ()
    zone = ZoneInfo(tz)
    spans = dict(weekly_key).get(BusinessHours.DAYS[day.weekday()], ())
    out = []
    for start, end in spans:
        start_at = dt.datetime.combine(day, _parse(start), tzinfo=zone).astimezone(UTC)
        end_time = _parse(end)
        end_local = (
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            if end_time is None
            else dt.datetime.combine(day, end_time, tzinfo=zone)
        )
        end_at = end_local.astimezone(UTC)
        if end_at > start_at:
            out.append((start_at, end_at))
    return tuple(sorted(out))


def _key(calendar: BusinessHours):
    weekly = tuple(
        sorted(
            (day, tuple(tuple(span) for span in spans))
            for day, spans in (calendar.weekly or {}).items()
        )
    )
    return calendar.timezone, weekly, frozenset(calendar.holidays or [])


def intervals(calendar: BusinessHours, day: dt.date) -> tuple:
    tz, weekly, holidays = _key(calendar)
    return _day_intervals(tz, weekly, holidays, day)


def always_open(calendar: BusinessHours | None) -> bool:
    return calendar is None or calendar.always_open


def is_open(calendar: BusinessHours | None, at: dt.datetime) -> bool:
    """No calendar, or a 24/7 one, is always open."""
    if always_open(calendar):
        return True
    local_day = at.astimezone(ZoneInfo(calendar.timezone)).date()
    return any(start <= at < end for start, end in intervals(calendar, local_day))


def add(calendar: BusinessHours | None, start: dt.datetime, seconds: float) -> dt.datetime:
    """The instant `seconds` of open time after `start`."""
    if always_open(calendar):
        return start + dt.timedelta(seconds=seconds)
    start = start.astimezone(UTC)
    remaining = max(seconds, 0.0)
    day = start.astimezone(ZoneInfo(calendar.timezone)).date() - dt.timedelta(days=1)
    for _ in range(MAX_DAYS):
        for open_at, close_at in intervals(calendar, day):
            if close_at <= start:
                continue
            begin = max(open_at, start)
            span = (close_at - begin).total_seconds()
            if remaining <= span:
                if remaining == 0 and begin > start and seconds > 0:
                    return begin
                return begin + dt.timedelta(seconds=remaining)
            remaining -= span
        day += dt.timedelta(days=1)
    raise ValueError(f"calendar {calendar.name!r} has no open hours")


def elapsed(calendar: BusinessHours | None, start: dt.datetime, end: dt.datetime) -> float:
    """Open seconds between two instants (0 when end is before start)."""
    if end <= start:
        return 0.0
    if always_open(calendar):
        return (end - start).total_seconds()
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    zone = ZoneInfo(calendar.timezone)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    total = 0.0
    while day <= last:
        for open_at, close_at in intervals(calendar, day):
            begin, finish = max(open_at, start), min(close_at, end)
            if finish > begin:
                total += (finish - begin).total_seconds()
        day += dt.timedelta(days=1)
    return total


def next_opening(calendar: BusinessHours | None, at: dt.datetime) -> dt.datetime | None:
    """When the calendar is next open from `at`: `at` itself when open now, None when it has no
    open hours in the next three years."""
    if always_open(calendar):
        return at
    at = at.astimezone(UTC)
    day = at.astimezone(ZoneInfo(calendar.timezone)).date() - dt.timedelta(days=1)
    for _ in range(MAX_DAYS):
        for open_at, close_at in intervals(calendar, day):
            if close_at <= at:
                continue
            return max(open_at, at)
        day += dt.timedelta(days=1)
    return None
