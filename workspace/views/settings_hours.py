"""Settings > Business hours: calendars (time zone, weekly ranges, holidays), a country's public
holidays added in one step, and which teams use each. Admins, and team leads for the calendars
only their own teams use. Writes are routing.calendars'
functions, the ones /api/v1/business-hours/ calls."""

import datetime as dt
from zoneinfo import available_timezones

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Team
from accounts.permissions import can_administer
from routing import calendars
from routing.models import BusinessHours

DAY_NAMES = {
    "mon": gettext_lazy("Monday"),
    "tue": gettext_lazy("Tuesday"),
    "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"),
    "fri": gettext_lazy("Friday"),
    "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}


def _form_from(calendar: BusinessHours | None) -> dict:
    if calendar is None:
        weekday = "09:00-17:00"
        return {
            "name": "",
            "timezone": "UTC",
            "always_open": False,
            "days": {d: (weekday if d not in ("sat", "sun") else "") for d in BusinessHours.DAYS},
            "holidays": "",
            "teams": [],
        }
    return {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "always_open": calendar.always_open,
        "days": {
            d: ", ".join("-".join(span) for span in (calendar.weekly or {}).get(d, []))
            for d in BusinessHours.DAYS
        },
        "holidays": "\n".join(calendar.holidays or []),
        "teams": [t.slug for t in calendars.teams_of(calendar)],
    }


def _page(request, *, editing=None, form=None, errors=None, status=200):
    rows = [
        {"calendar": c, "teams": calendars.teams_of(c)}
        for c in calendars.visible_calendars(request.user)
    ]
    teams = Team.objects.order_by("name")
    if not can_administer(request.user):
        teams = teams.filter(pk__in=calendars.led_team_ids(request.user))
    form = form or _form_from(editing)
    return render(
        request,
        "ui/settings/hours.html",
        {
            "rows": rows,
            "editing": editing,
            "form": form,
            "day_rows": [(d, DAY_NAMES[d], form["days"].get(d, "")) for d in BusinessHours.DAYS],
            "errors": errors or {},
            "teams": teams,
            "time_zones": sorted(available_timezones()),
            "this_year": dt.date.today().year,
        },
        status=status,
    )


@login_required
def hours_page(request, pk: int | None = None):
    if not calendars.may_manage_hours(request.user):
        raise PermissionDenied
    editing = get_object_or_404(calendars.visible_calendars(request.user), pk=pk) if pk else None
    if request.method != "POST":
        return _page(request, editing=editing)
    form = {
        "name": request.POST.get("name", ""),
        "timezone": request.POST.get("timezone", ""),
        "always_open": bool(request.POST.get("always_open")),
        "days": {d: request.POST.get(f"day_{d}", "") for d in BusinessHours.DAYS},
        "holidays": request.POST.get("holidays", ""),
        "teams": request.POST.getlist("teams"),
    }
    try:
        calendar = calendars.save_calendar(
            actor=request.user,
            calendar=editing,
            name=form["name"],
            timezone=form["timezone"],
            always_open=form["always_open"],
            weekly=calendars.parse_weekly_text(form["days"]),
            holidays=form["holidays"],
            teams=list(Team.objects.filter(slug__in=form["teams"])),
        )
    except ValidationError as exc:
        errors = {k: list(v) for k, v in exc.message_dict.items()}
        return _page(request, editing=editing, form=form, errors=errors, status=400)
    flash.success(request, _("Business hours saved."))
    return redirect("ui:settings-hours-edit", calendar.pk)


@login_required
@require_POST
def public_holidays(request, pk: int):
    calendar = get_object_or_404(calendars.visible_calendars(request.user), pk=pk)
    try:
        added = calendars.add_public_holidays(
            actor=request.user,
            calendar=calendar,
            country=request.POST.get("country", ""),
            year=request.POST.get("year", ""),
        )
    except ValidationError as exc:
        errors = {k: list(v) for k, v in exc.message_dict.items()}
        return _page(request, editing=calendar, errors=errors, status=400)
    flash.success(request, _("%d public holidays added.") % len(added))
    return redirect("ui:settings-hours-edit", calendar.pk)
