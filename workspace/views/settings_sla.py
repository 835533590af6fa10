"""Settings > SLA policies: list, create, edit, deactivate, with a preview of when a conversation
arriving now would be due (routing.sla's own clock). Admins only. Writes are
routing.sla_settings' functions, the ones /api/v1/sla-policies/ calls."""

from zoneinfo import ZoneInfo

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Team
from accounts.permissions import can_administer
from inbox.models import Channel, Severity
from routing import sla_settings
from routing.models import BusinessHours, SLAPolicy
from tagging.models import Tag

FIELDS = (
    "name",
    "severity",
    "team",
    "channel",
    "tag",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "business_hours",
    "warning_percent",
)


def _shown(value, zone: str) -> str:
    if value is None:
        return _("never (the calendar has no open hours)")
    local = value.astimezone(ZoneInfo(zone))
    return f"{date_format(local, 'D j M Y, H:i')} ({zone})"


def preview_lines(policy: SLAPolicy) -> dict:
    """The preview, in words and in the calendar's time zone."""
    found = sla_settings.preview(policy)
    zone = found["timezone"]
    return {
        "severity": Severity(policy.severity).label,
        "arriving_at": _shown(found["arriving_at"], zone),
        "calendar": found["calendar"],
        "first_response": _shown(found["first_response_due"], zone),
        "next_response": _shown(found["next_response_due"], zone),
        "resolution": _shown(found["resolution_due"], zone),
    }


def _form_from(policy: SLAPolicy | None) -> dict:
    if policy is None:
        return {"severity": "2", "warning_percent": "80", "is_active": True}
    form = {f: getattr(policy, f"{f}_id", None) or getattr(policy, f, "") for f in FIELDS}
    form.update(
        business_hours_only=policy.business_hours_only,
        is_active=policy.is_active,
        severity=str(policy.severity),
    )
    return {
        k: ("" if v is None else str(v) if not isinstance(v, bool) else v) for k, v in form.items()
    }


def _values(post) -> dict:
    values: dict = {f: post.get(f, "") for f in FIELDS}
    lookups = (
        ("team", Team),
        ("channel", Channel),
        ("tag", Tag),
        ("business_hours", BusinessHours),
    )
    for field, model in lookups:
        values[field] = model.objects.filter(pk=values[field]).first() if values[field] else None
    values["business_hours_only"] = bool(post.get("business_hours_only"))
    values["is_active"] = bool(post.get("is_active"))
    return values


def _page(request, *, editing=None, form=None, errors=None, preview=None, status=200):
    if preview is None and editing is not None:
        preview = preview_lines(editing)
    return render(
        request,
        "ui/settings/sla.html",
        {
            "policies": SLAPolicy.objects.select_related(
                "team", "channel", "tag", "business_hours"
            ),
            "editing": editing,
            "form": form or _form_from(editing),
            "errors": errors or {},
            "preview": preview,
            "severities": [(str(s.value), s.label) for s in Severity],
            "teams": Team.objects.order_by("name"),
            "channels": Channel.objects.order_by("name"),
            "tags": Tag.objects.order_by("name"),
            "calendars": BusinessHours.objects.order_by("name"),
        },
        status=status,
    )


@login_required
def sla_page(request, pk: int | None = None):
    if not can_administer(request.user):
        raise PermissionDenied
    editing = get_object_or_404(SLAPolicy, pk=pk) if pk else None
    if request.method != "POST":
        return _page(request, editing=editing)
    form = {k: request.POST.get(k, "") for k in FIELDS}
    form.update(
        business_hours_only=bool(request.POST.get("business_hours_only")),
        is_active=bool(request.POST.get("is_active")),
    )
    values = _values(request.POST)
    try:
        if "preview" in request.POST:
            unsaved = sla_settings.clean(values, policy=editing)
            return _page(request, editing=editing, form=form, preview=preview_lines(unsaved))
        policy = sla_settings.save_policy(actor=request.user, policy=editing, **values)
    except ValidationError as exc:
        errors = {k: list(v) for k, v in exc.message_dict.items()}
        return _page(request, editing=editing, form=form, errors=errors, preview={}, status=400)
    flash.success(request, _("SLA policy saved."))
    return redirect("ui:settings-sla-edit", policy.pk)


@login_required
@require_POST
def sla_active(request, pk: int):
    policy = get_object_or_404(SLAPolicy, pk=pk)
    active = request.POST.get("active") == "1"
    sla_settings.set_active(actor=request.user, policy=policy, active=active)
    flash.success(request, _("SLA policy enabled.") if active else _("SLA policy deactivated."))
    return redirect("ui:settings-sla")
