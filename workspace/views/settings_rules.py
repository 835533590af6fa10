"""Settings > Rules: routing rules and classification rules in the order they run, each with a
builder (pick-lists for channels, tags, teams, agents, canned responses), move up/down,
enable/disable and delete; a routing rule's "Preview" shows which recent conversations the rule
as drafted would have matched, before it is saved. Admins only. Writes are routing.rule_settings'
and tagging.rule_settings' functions, the ones /api/v1/routing-rules/ and
/api/v1/classification-rules/ call."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Team, User
from accounts.permissions import can_administer
from inbox.models import AGENT_STATUSES, CannedResponse, Channel, Severity
from routing import rule_settings as routing_rules
from routing.models import RoutingRule
from tagging import rule_settings as classification_rules
from tagging.models import ClassificationRule, Tag

KINDS = ("routing", "classification")
HOURS = {"": None, "outside": True, "inside": False}


def _words(raw: str) -> list[str]:
    return [w.strip() for w in raw.replace("\n", ",").split(",") if w.strip()]


def _labels() -> dict:
    labels = {"name": _("Name"), "conditions": _("Conditions"), "actions": _("Actions")}
    labels.update({f"conditions.{k}": v for k, v in routing_rules.CONDITIONS.items()})
    labels.update({f"actions.{k}": v for k, v in routing_rules.ACTIONS.items()})
    labels.update(
        keywords=_("Keywords"),
        regex=_("Regular expression"),
        sender_domains=_("Sender domain"),
        channel_kinds=_("Channel kinds"),
        tags=_("Tags"),
        severity=_("Severity"),
        mode=_("Mode"),
    )
    return labels


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    labels = _labels()
    return [
        (str(labels.get(field, field)), problem)
        for field, problems in exc.message_dict.items()
        for problem in problems
    ]


def _routing_form(rule: RoutingRule | None) -> dict:
    c = rule.conditions if rule else {}
    a = rule.actions if rule else {}
    hours = c.get("outside_business_hours")
    return {
        "name": rule.name if rule else "",
        "channels": c.get("channels", []),
        "keywords": ", ".join(c.get("keywords", [])),
        "sender_domains": ", ".join(c.get("sender_domains", [])),
        "tags_any": c.get("tags_any", []),
        "severity_at_least": c.get("severity_at_least", ""),
        "attr_key": (c.get("contact_attribute") or {}).get("key", ""),
        "attr_value": (c.get("contact_attribute") or {}).get("value", ""),
        "hours": "" if hours is None else "outside" if hours else "inside",
        "automated": bool(c.get("automated")),
        "add_tags": a.get("add_tags", []),
        **{k: str(a.get(k, "")) for k in ("set_severity", "assign_team", "assign_agent")},
        **{k: str(a.get(k, "")) for k in ("set_status", "send_canned")},
        "stop_processing": rule.stop_processing if rule else False,
        "is_active": rule.is_active if rule else True,
    }


def _routing_posted(post) -> tuple[dict, dict]:
    """(the form to show again, the values for the service)."""
    form = {k: post.get(k, "").strip() for k in _routing_form(None) if k not in ("channels",)}
    for many in ("channels", "tags_any", "add_tags"):
        form[many] = post.getlist(many)
    for flag in ("automated", "stop_processing", "is_active"):
        form[flag] = bool(post.get(flag))
    conditions = {
        "channels": form["channels"],
        "keywords": _words(form["keywords"]),
        "sender_domains": _words(form["sender_domains"]),
        "tags_any": form["tags_any"],
        "severity_at_least": form["severity_at_least"],
        "outside_business_hours": HOURS.get(form["hours"]),
        "automated": form["automated"] or None,
    }
    if form["attr_key"] or form["attr_value"]:
        conditions["contact_attribute"] = {"key": form["attr_key"], "value": form["attr_value"]}
    actions = {k: form[k] for k in routing_rules.ACTIONS}
    values = {
        "name": form["name"],
        "conditions": conditions,
        "actions": actions,
        "stop_processing": form["stop_processing"],
        "is_active": form["is_active"],
    }
    return form, values


def _classification_form(rule: ClassificationRule | None) -> dict:
    return {
        "name": rule.name if rule else "",
        "mode": rule.mode if rule else ClassificationRule.Mode.APPLY,
        "keywords": ", ".join(rule.keywords) if rule else "",
        "regex": rule.regex if rule else "",
        "sender_domains": ", ".join(rule.sender_domains) if rule else "",
        "channel_kinds": rule.channel_kinds if rule else [],
        "tags": [t.slug for t in rule.tags.all()] if rule else [],
        "severity": Severity(rule.severity).label if rule and rule.severity else "",
        "is_active": rule.is_active if rule else True,
    }


def _classification_posted(post) -> tuple[dict, dict]:
    form = {k: post.get(k, "").strip() for k in ("name", "mode", "keywords", "regex")}
    form.update(
        sender_domains=post.get("sender_domains", "").strip(),
        channel_kinds=post.getlist("channel_kinds"),
        tags=post.getlist("tags"),
        severity=post.get("severity", ""),
        is_active=bool(post.get("is_active")),
    )
    values = {
        **form,
        "keywords": _words(form["keywords"]),
        "sender_domains": _words(form["sender_domains"]),
        "severity": form["severity"] or None,
    }
    return form, values


def _choices() -> dict:
    return {
        "channels": Channel.objects.order_by("name"),
        "channel_kinds": Channel.Kind.choices,
        "tags": Tag.objects.order_by("name"),
        "teams": Team.objects.order_by("name"),
        "agents": User.objects.filter(is_active=True)
        .exclude(role=User.Role.VIEWER)
        .order_by("username"),
        "canned": CannedResponse.objects.filter(owner__isnull=True).order_by("title"),
        "severities": [s.label for s in Severity],
        "statuses": [(v, label) for v, label in AGENT_STATUSES if v in routing_rules.STATUSES],
        "modes": ClassificationRule.Mode.choices,
    }


def _page(request, *, kind="routing", editing=None, form=None, errors=(), preview=None, status=200):
    listed = [
        {"rule": rule, **routing_rules.describe(rule)}
        for rule in RoutingRule.objects.order_by("position", "id")
    ]
    classification = ClassificationRule.objects.prefetch_related("tags").order_by("position", "id")
    if form is None:
        form = (_routing_form if kind == "routing" else _classification_form)(editing)
    return render(
        request,
        "ui/settings/rules.html",
        {
            "routing": listed,
            "classification": classification,
            "kind": kind,
            "editing": editing,
            "form": form,
            "errors": errors,
            "preview": preview,
            "examined": routing_rules.examined() if preview is not None else 0,
            **_choices(),
        },
        status=status,
    )


def _admin(request) -> None:
    if not can_administer(request.user):
        raise PermissionDenied


@login_required
def rules_page(request, pk: int | None = None):
    """GET: both lists and the routing rule builder (filled with `pk` to edit it). POST:
    "preview" dry-runs the draft; otherwise save."""
    _admin(request)
    editing = get_object_or_404(RoutingRule, pk=pk) if pk else None
    if request.method != "POST":
        return _page(request, editing=editing)
    form, values = _routing_posted(request.POST)
    try:
        if "preview" in request.POST:
            draft = routing_rules.clean(values, rule=editing)
            found = routing_rules.preview(draft)
            return _page(request, editing=editing, form=form, preview=found)
        rule = routing_rules.save_rule(actor=request.user, rule=editing, **values)
    except ValidationError as exc:
        return _page(request, editing=editing, form=form, errors=_errors(exc), status=400)
    flash.success(request, _("Routing rule “%s” saved.") % rule.name)
    return redirect("ui:settings-rules")


@login_required
def classification_page(request, pk: int | None = None):
    """The classification rule builder (filled with `pk` to edit it), under both lists."""
    _admin(request)
    editing = get_object_or_404(ClassificationRule, pk=pk) if pk else None
    if request.method != "POST":
        return _page(request, kind="classification", editing=editing)
    form, values = _classification_posted(request.POST)
    try:
        rule = classification_rules.save_rule(actor=request.user, rule=editing, **values)
    except ValidationError as exc:
        return _page(
            request,
            kind="classification",
            editing=editing,
            form=form,
            errors=_errors(exc),
            status=400,
        )
    flash.success(request, _("Classification rule “%s” saved.") % rule.name)
    return redirect("ui:settings-rules")


@login_required
@require_POST
def rule_change(request, kind: str, pk: int):
    """Move up or down, enable, disable or delete one rule of either kind."""
    _admin(request)
    if kind not in KINDS:
        raise Http404
    model = RoutingRule if kind == "routing" else ClassificationRule
    service = routing_rules if kind == "routing" else classification_rules
    rule = get_object_or_404(model, pk=pk)
    op = request.POST.get("op", "")
    if op in ("up", "down"):
        service.move_rule(actor=request.user, rule=rule, up=op == "up")
    elif op in ("enable", "disable"):
        service.set_active(actor=request.user, rule=rule, active=op == "enable")
        if op == "enable":
            flash.success(request, _("Rule “%s” enabled.") % rule.name)
        else:
            flash.success(request, _("Rule “%s” disabled.") % rule.name)
    elif op == "delete":
        service.delete_rule(actor=request.user, rule=rule)
        flash.success(request, _("Rule “%s” deleted.") % rule.name)
    return redirect("ui:settings-rules")
