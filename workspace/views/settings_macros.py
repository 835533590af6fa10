"""Settings > Macros: named lists of actions with a builder (one row per action: what to do and
the value, "Add a row" for more), scoped like canned responses: every agent writes personal
ones, team leads their team's, admins everyone's. Writes are routing.macros' functions, the ones
/api/v1/macros/ calls."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Team, User
from inbox.canned import canned_list_for
from inbox.models import AGENT_STATUSES, SEVERITY_WORDS
from routing import macros as service
from tagging.models import Tag
from workspace.views import settings_scoped
from workspace.views.common import SEVERITIES

EMPTY_ROWS = 2  # blank rows under the filled ones; "Add a row" adds one more


def value_choices(user) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(kind, label, [(option value, option label)]) for the builder's value select; an option's
    value is "kind:value", so one select serves every kind and a mismatch is caught."""
    users = User.objects.filter(is_active=True).exclude(role=User.Role.VIEWER)
    groups = [
        (
            "add_tags",
            service.KINDS["add_tags"],
            [(t.slug, t.name) for t in Tag.objects.order_by("name")],
        ),
        (
            "set_severity",
            service.KINDS["set_severity"],
            [(s, SEVERITY_WORDS[s]) for s in SEVERITIES],
        ),
        (
            "assign_team",
            service.KINDS["assign_team"],
            [(t.slug, t.name) for t in Team.objects.order_by("name")],
        ),
        (
            "assign_agent",
            service.KINDS["assign_agent"],
            [(service.ME, _("whoever runs it"))]
            + [(u.username, u.username) for u in users.order_by("username")],
        ),
        (
            "set_status",
            service.KINDS["set_status"],
            [(v, label) for v, label in AGENT_STATUSES if v != "snoozed"],
        ),
        (
            "send_canned",
            service.KINDS["send_canned"],
            [(str(c.pk), c.title) for c in canned_list_for(user=user).order_by("title")],
        ),
    ]
    return [
        (kind, label, [(f"{kind}:{v}", shown) for v, shown in opts]) for kind, label, opts in groups
    ]


def rows_from_post(post) -> tuple[list[dict], list[dict], list[str]]:
    """The builder's rows as posted: (actions, rows to show again, problems in words)."""
    actions, rows, problems = [], [], []
    count = min(int(post.get("rows") or 0) if str(post.get("rows", "")).isdigit() else 0, 40)
    for i in range(count):
        kind = post.get(f"kind-{i}", "")
        raw = post.get(f"value-{i}", "")
        note = post.get(f"note-{i}", "")
        rows.append({"kind": kind, "value": raw, "note": note})
        if not kind:
            continue
        if kind == "add_note":
            actions.append({"kind": kind, "value": note.strip()})
            continue
        prefix, _sep, value = raw.partition(":")
        if prefix != kind or not value:
            problems.append(
                _("Row %(n)d: pick a value for “%(kind)s”.")
                % {"n": i + 1, "kind": service.KINDS.get(kind, kind)}
            )
            continue
        if kind == "add_tags":
            actions.append({"kind": kind, "value": [value]})
        elif kind == "send_canned":
            actions.append({"kind": kind, "value": int(value) if value.isdigit() else value})
        else:
            actions.append({"kind": kind, "value": value})
    return actions, rows, problems


def _rows_of(macro) -> list[dict]:
    rows = []
    for action in macro.actions:
        kind, value = action["kind"], action["value"]
        if kind == "add_note":
            rows.append({"kind": kind, "value": "", "note": value})
        elif kind == "add_tags":
            rows.extend({"kind": kind, "value": f"{kind}:{slug}", "note": ""} for slug in value)
        else:
            rows.append({"kind": kind, "value": f"{kind}:{value}", "note": ""})
    return rows


def _page(request, *, form=None, editing=None, errors=None, status=200):
    form = form or {"scope": service.PERSONAL, "rows": []}
    rows = list(form["rows"]) + [{"kind": "", "value": "", "note": ""}] * (
        EMPTY_ROWS + int(form.get("more", 0))
    )
    macros = service.macros_for(user=request.user).order_by("name", "pk")
    listed = settings_scoped.listed(request.user, macros, name="macro")
    for row in listed:
        row["steps"] = [service.describe(a) for a in row["macro"].actions]
    return render(
        request,
        "ui/settings/macros.html",
        {
            "listed": listed,
            "form": form,
            "rows": rows,
            "row_count": len(rows),
            "kinds": list(service.KINDS.items()),
            "value_choices": value_choices(request.user),
            "editing": editing,
            "errors": errors or {},
            **settings_scoped.form_context(request.user),
        },
        status=status,
    )


@login_required
def macro_page(request, pk: int | None = None):
    """GET: the list and the builder (filled with `pk` to edit it). POST: add a row, or save."""
    editing = None
    if pk is not None:
        editing = get_object_or_404(service.macros_for(user=request.user), pk=pk)
    if request.method != "POST":
        form = None
        if editing is not None:
            form = {
                "name": editing.name,
                **settings_scoped.scope_form(editing),
                "rows": _rows_of(editing),
            }
        return _page(request, form=form, editing=editing)
    actions, rows, problems = rows_from_post(request.POST)
    form = {
        "name": request.POST.get("name", ""),
        "scope": request.POST.get("scope", service.PERSONAL),
        "team": request.POST.get("team", ""),
        "rows": [r for r in rows if r["kind"]],
    }
    if "more" in request.POST:
        form["more"] = 1
        return _page(request, form=form, editing=editing)
    if problems:
        return _page(request, form=form, editing=editing, errors={"actions": problems}, status=400)
    try:
        service.save_macro(
            actor=request.user,
            macro=editing,
            name=form["name"],
            actions=actions,
            scope=form["scope"],
            team=settings_scoped.team_named(form["team"]),
        )
    except ValidationError as exc:
        errors = {k: list(v) for k, v in exc.message_dict.items()}
        return _page(request, form=form, editing=editing, errors=errors, status=400)
    except PermissionDenied as exc:
        return _page(request, form=form, editing=editing, errors={"scope": [str(exc)]}, status=403)
    flash.success(request, _("Macro saved."))
    return redirect("ui:settings-macros")


@login_required
@require_POST
def macro_delete(request, pk: int):
    macro = get_object_or_404(service.macros_for(user=request.user), pk=pk)
    try:
        service.delete_macro(actor=request.user, macro=macro)
    except PermissionDenied as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, _("Macro deleted."))
    return redirect("ui:settings-macros")
