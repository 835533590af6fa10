"""SLA policies for the settings page and /api/v1/sla-policies/: create, edit, deactivate, and a
preview of due times computed by the clock itself (routing.sla.Clock on routing.hours). Admins
only. Errors are ValidationError keyed by field."""

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require_admin
from core import ordering
from inbox.models import Conversation, Severity
from routing import sla
from routing.models import SLAPolicy

audit = logging.getLogger("switchboard.audit")

MAX_MINUTES = 366 * 24 * 60
MINUTE_FIELDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
SEVERITIES = {s.label: s.value for s in Severity}


def clean(values: dict, *, policy: SLAPolicy | None = None) -> SLAPolicy:
    """An unsaved policy from `values` (over `policy`'s own when editing). `severity` is a name
    (low, normal, high, critical) or its rank; team, channel, tag and business_hours are model
    instances or None, resolved by the caller."""
    errors: dict[str, list[str]] = {}
    target = SLAPolicy() if policy is None else SLAPolicy.objects.get(pk=policy.pk)
    name = str(values.get("name", target.name) or "").strip()
    if not name or len(name) > 120:
        errors["name"] = [_("A name of 1 to 120 characters.")]
    target.name = name
    severity = values.get("severity", target.severity)
    if isinstance(severity, str) and severity in SEVERITIES:
        severity = SEVERITIES[severity]
    try:
        severity = int(severity)
    except (TypeError, ValueError):
        severity = None
    if severity not in SEVERITIES.values():
        errors["severity"] = [_("Choose one of: %s.") % ", ".join(SEVERITIES)]
    else:
        target.severity = severity
    for field in MINUTE_FIELDS:
        raw = values.get(field, getattr(target, field))
        try:
            minutes = int(raw)
        except (TypeError, ValueError):
            minutes = 0
        if not 1 <= minutes <= MAX_MINUTES:
            errors[field] = [_("A whole number of minutes from 1 to %d.") % MAX_MINUTES]
        else:
            setattr(target, field, minutes)
    try:
        warning = int(values.get("warning_percent", target.warning_percent))
    except (TypeError, ValueError):
        warning = -1
    if not 1 <= warning <= 100:
        errors["warning_percent"] = [_("A percentage from 1 to 100.")]
    else:
        target.warning_percent = warning
    for field in ("team", "channel", "tag", "business_hours"):
        if field in values:
            setattr(target, field, values[field])
    for field in ("business_hours_only", "is_active"):
        if field in values:
            setattr(target, field, bool(values[field]))
    if errors:
        raise ValidationError(errors)
    return target


def save_policy(*, actor, policy: SLAPolicy | None = None, **values) -> SLAPolicy:
    require_admin(actor)
    target = clean(values, policy=policy)
    target.save()
    audit.info("sla policy saved: actor=%s policy=%s", actor.get_username(), target.pk)
    return target


def set_active(*, actor, policy: SLAPolicy, active: bool) -> SLAPolicy:
    require_admin(actor)
    ordering.set_active(policy, active=active)
    audit.info("sla policy %s: policy=%s", "enabled" if active else "disabled", policy.pk)
    return policy


def preview(policy: SLAPolicy, *, at: dt.datetime | None = None) -> dict:
    """When a conversation this policy covers (its severity, team and channel), arriving at `at`
    (now), would be due: the same Clock and calendar arithmetic the live clocks use."""
    at = at or timezone.now()
    conversation = Conversation(
        severity=policy.severity, team_id=policy.team_id, channel_id=policy.channel_id
    )
    clock = sla.Clock(policy=policy, calendar=sla.calendar_for(policy, conversation))
    due = {}
    for target in sla.TARGETS:
        clock.targets[target] = {"start": at, "paused": 0.0}
        try:
            due[target] = clock.due(target)
        except ValueError:  # a calendar with no open hours: never due
            due[target] = None
    return {
        "arriving_at": at,
        "calendar": getattr(clock.calendar, "name", None),
        "timezone": getattr(clock.calendar, "timezone", None) or "UTC",
        "first_response_due": due["first_response"],
        "next_response_due": due["next_response"],
        "resolution_due": due["resolution"],
    }
