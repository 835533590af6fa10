"""Business-hours calendars for the settings page and /api/v1/business-hours/: weekly opening
ranges, holidays (custom dates, or a country's public holidays from the `holidays` package) and
which teams use a calendar. Admins manage every calendar; a team lead manages the calendars only
their own teams use, and may make one for them. Errors are ValidationError keyed by field, or
PermissionDenied."""

import datetime as dt
import itertools
import logging
import re
from zoneinfo import available_timezones

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership, Team
from accounts.permissions import can_administer, can_write
from routing.models import BusinessHours, TeamPolicy

audit = logging.getLogger("switchboard.audit")

DAYS = BusinessHours.DAYS
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def led_team_ids(actor) -> set[int]:
    if not can_write(actor):
        return set()
    return set(
        Membership.objects.filter(user=actor, role=Membership.Role.LEAD).values_list(
            "team_id", flat=True
        )
    )


def may_manage_hours(actor) -> bool:
    """Whether the hours settings are open to the user at all: admins and team leads."""
    return can_administer(actor) or bool(led_team_ids(actor))


def visible_calendars(actor):
    """Every calendar for admins; for a lead, those their teams use."""
    if can_administer(actor):
        return BusinessHours.objects.order_by("name", "pk")
    return (
        BusinessHours.objects.filter(
            pk__in=TeamPolicy.objects.filter(team_id__in=led_team_ids(actor)).values(
                "business_hours_id"
            )
        )
        .order_by("name", "pk")
        .distinct()
    )


def may_edit(actor, calendar: BusinessHours) -> bool:
    """Admins edit any calendar; a lead one that only teams they lead use."""
    if can_administer(actor):
        return True
    users = {team.pk for team in teams_of(calendar)}
    return bool(users) and users <= led_team_ids(actor)


def _require_editor(actor, calendar: BusinessHours | None, teams: list[Team] | None) -> None:
    if can_administer(actor):
        return
    led = led_team_ids(actor)
    if not led:
        raise PermissionDenied(_("Only admins and team leads may change business hours."))
    if calendar is not None and not may_edit(actor, calendar):
        raise PermissionDenied(_("Other teams use this calendar too: only admins may change it."))
    if teams is not None:
        if not {team.pk for team in teams} <= led:
            raise PermissionDenied(_("You may only choose the teams you lead."))
        if not teams:
            raise ValidationError({"teams": [_("Choose at least one of your teams.")]})
    elif calendar is None:
        raise ValidationError({"teams": [_("Choose at least one of your teams.")]})


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def clean_weekly(weekly) -> dict[str, list[list[str]]]:
    """`{"mon": [["09:00", "17:00"], ...], ...}`: known days, HH:MM times (an end may be
    24:00), start before end, and no two ranges of a day overlapping. Raises ValidationError on
    `weekly` with every problem in words."""
    if not isinstance(weekly, dict):
        raise ValidationError(
            {"weekly": [_("Give the opening hours by day, like mon: 09:00-17:00.")]}
        )
    problems: list[str] = []
    out: dict[str, list[list[str]]] = {}
    for day, spans in weekly.items():
        if day not in DAYS:
            problems.append(
                _("%(day)r is not a day (use %(days)s).") % {"day": day, "days": ", ".join(DAYS)}
            )
            continue
        if not isinstance(spans, list):
            problems.append(_("%s: give a list of ranges.") % day)
            continue
        ranges = []
        for span in spans:
            if not (isinstance(span, list | tuple) and len(span) == 2):
                problems.append(_("%s: each range is a start and an end.") % day)
                continue
            start, end = (str(v).strip() for v in span)
            if not _TIME.match(start) or start == "24:00" or not _TIME.match(end):
                problems.append(
                    _("%(day)s: %(start)s-%(end)s is not HH:MM-HH:MM.")
                    % {"day": day, "start": start, "end": end}
                )
                continue
            if _minutes(start) >= _minutes(end):
                problems.append(
                    _("%(day)s: %(start)s-%(end)s starts after it ends.")
                    % {"day": day, "start": start, "end": end}
                )
                continue
            ranges.append([start, end])
        ranges.sort(key=lambda r: _minutes(r[0]))
        for before, after in itertools.pairwise(ranges):
            if _minutes(after[0]) < _minutes(before[1]):
                problems.append(
                    _("%(day)s: %(a)s and %(b)s overlap.")
                    % {"day": day, "a": "-".join(before), "b": "-".join(after)}
                )
        if ranges:
            out[day] = ranges
    if problems:
        raise ValidationError({"weekly": problems})
    return {day: out[day] for day in DAYS if day in out}


def parse_weekly_text(lines: dict[str, str]) -> dict[str, list[list[str]]]:
    """The page's form: one field a day holding "09:00-12:00, 13:00-17:00"."""
    weekly: dict[str, list[list[str]]] = {}
    for day in DAYS:
        text = (lines.get(day) or "").strip()
        if text:
            weekly[day] = [
                [part.strip() for part in chunk.split("-", 1)]
                if "-" in chunk
                else [chunk.strip(), ""]
                for chunk in text.split(",")
                if chunk.strip()
            ]
    return weekly


def clean_holidays(values) -> list[str]:
    if isinstance(values, str):
        values = values.replace(",", "\n").split()
    if not isinstance(values, list):
        raise ValidationError({"holidays": [_("Give a list of dates, YYYY-MM-DD.")]})
    days = set()
    for value in values:
        try:
            days.add(dt.date.fromisoformat(str(value).strip()).isoformat())
        except ValueError:
            raise ValidationError(
                {"holidays": [_("%r is not a date (YYYY-MM-DD).") % value]}
            ) from None
    return sorted(days)


def public_holidays_for(country: str, year) -> list[tuple[str, str]]:
    """(date, name) of a country's public holidays in a year, from the `holidays` package
    (imported here: it takes a quarter of a second, which no other request should pay)."""
    import holidays as public_holidays

    errors = {}
    code = (country or "").strip().upper()
    try:
        year = int(year)
        if not 1900 <= year <= 2200:
            raise ValueError
    except (TypeError, ValueError):
        errors["year"] = [_("Give a year, like 2027.")]
    if code not in public_holidays.list_supported_countries():
        errors["country"] = [
            _("%r is not a country code we have holidays for (like ID, US, DE).") % country
        ]
    if errors:
        raise ValidationError(errors)
    found = public_holidays.country_holidays(code, years=year)
    return sorted((day.isoformat(), str(name)) for day, name in found.items())


def save_calendar(
    *,
    actor,
    calendar: BusinessHours | None = None,
    name: str,
    timezone: str,
    always_open: bool = False,
    weekly=None,
    holidays=None,
    teams: list[Team] | None = None,
) -> BusinessHours:
    """Create or change a calendar; `teams` (when given) are the teams that use it."""
    _require_editor(actor, calendar, teams)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = [_("A name of 1 to 120 characters.")]
    timezone = (timezone or "").strip()
    if timezone not in available_timezones():
        errors["timezone"] = [_("%r is not a time zone we know (like Asia/Jakarta).") % timezone]
    cleaned_weekly: dict = {}
    cleaned_holidays: list[str] = []
    for field, clean, value in (
        (
            "weekly",
            clean_weekly,
            weekly if weekly is not None else (calendar.weekly if calendar else {}),
        ),
        (
            "holidays",
            clean_holidays,
            holidays if holidays is not None else (calendar.holidays if calendar else []),
        ),
    ):
        try:
            if field == "weekly":
                cleaned_weekly = clean(value)
            else:
                cleaned_holidays = clean(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not always_open and not cleaned_weekly and "weekly" not in errors:
        errors["weekly"] = [_("Give opening hours for at least one day, or make it always open.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        calendar = calendar or BusinessHours()
        calendar.name = name
        calendar.timezone = timezone
        calendar.always_open = bool(always_open)
        calendar.weekly = cleaned_weekly
        calendar.holidays = cleaned_holidays
        calendar.save()
        if teams is not None:
            assign(actor=actor, calendar=calendar, teams=teams)
    audit.info("business hours saved: actor=%s calendar=%s", actor.get_username(), calendar.pk)
    return calendar


def assign(*, actor, calendar: BusinessHours, teams: list[Team]) -> None:
    """Exactly `teams` use `calendar` afterwards (others that did go back to always open)."""
    _require_editor(actor, None, teams)
    wanted = {team.pk for team in teams}
    for policy in TeamPolicy.objects.filter(business_hours=calendar).exclude(team_id__in=wanted):
        policy.business_hours = None
        policy.save(update_fields=["business_hours"])
    for team in teams:
        policy, _created = TeamPolicy.objects.get_or_create(team=team)
        if policy.business_hours_id != calendar.pk:
            policy.business_hours = calendar
            policy.save(update_fields=["business_hours"])


def teams_of(calendar: BusinessHours) -> list[Team]:
    return list(Team.objects.filter(policy__business_hours=calendar).order_by("name"))


def add_public_holidays(*, actor, calendar: BusinessHours, country: str, year) -> list[str]:
    """Add a country's public holidays for a year to the calendar; returns the dates added."""
    _require_editor(actor, calendar, None)
    found = [day for day, _name in public_holidays_for(country, year)]
    added = sorted(set(found) - set(calendar.holidays or []))
    calendar.holidays = sorted(set(calendar.holidays or []) | set(found))
    calendar.save(update_fields=["holidays"])
    audit.info(
        "public holidays added: calendar=%s %s %s: %d", calendar.pk, country, year, len(added)
    )
    return added


def delete_calendar(*, actor, calendar: BusinessHours) -> None:
    _require_editor(actor, calendar, None)
    calendar.delete()
