"""Business-hours calendars: is a team open at a given instant?"""

import datetime as dt
from zoneinfo import ZoneInfo

from routing.models import BusinessHours


def _intervals(calendar: BusinessHours, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    if day.isoformat() in set(calendar.holidays or []):
        return []
    spans = (calendar.weekly or {}).get(BusinessHours.DAYS[day.weekday()], [])
    out = []
    for start, end in spans:
        out.append(
            (
                dt.time.fromisoformat(start),
                dt.time.fromisoformat(end) if end != "24:00" else dt.time.max,
            )
        )
    return out


def is_open(calendar: BusinessHours | None, at: dt.datetime) -> bool:
    """No calendar, or a 24/7 one, is always open."""
    if calendar is None or calendar.always_open:
        return True
    local = at.astimezone(ZoneInfo(calendar.timezone))
    return any(start <= local.time() < end for start, end in _intervals(calendar, local.date()))
