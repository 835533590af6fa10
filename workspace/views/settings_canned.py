"""Settings > Canned responses: every agent writes personal ones, team leads their team's,
admins everyone's; the variables they may use and a preview. Writes are inbox.canned's
functions, the ones /api/v1/canned-responses/ calls."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Team
from accounts.permissions import can_administer, can_write
from inbox import canned as service


def _scopes_for(user) -> list[tuple[str, str]]:
    scopes = [(service.PERSONAL, _("Only me"))]
    if can_administer(user) or user.memberships.filter(role="lead").exists():
        scopes.append((service.TEAM, _("A team")))
    if can_administer(user):
        scopes.append((service.GLOBAL, _("Everyone")))
    return scopes


def _teams_for(user):
    if can_administer(user):
        return Team.objects.order_by("name")
    return Team.objects.filter(memberships__user=user, memberships__role="lead").order_by("name")


def _page(request, *, form=None, editing=None, errors=None, preview="", status=200):
    rows = []
    led = service.led_team_ids(request.user)
    for canned in service.canned_list_for(user=request.user).order_by("title", "pk"):
        scope = service.scope_of(canned)
        rows.append(
            {
                "canned": canned,
                "scope": scope,
                "can_edit": service.may_manage(
                    request.user, scope=scope, team=canned.team, owner=canned.owner, led=led
                ),
            }
        )
    return render(
        request,
        "ui/settings/canned.html",
        {
            "rows": rows,
            "form": form or {"scope": service.PERSONAL},
            "editing": editing,
            "errors": errors or {},
            "preview": preview,
            "scopes": _scopes_for(request.user),
            "teams": _teams_for(request.user),
            "variables": [("{{" + k + "}}", v) for k, v in service.VARIABLES.items()],
            "can_write": can_write(request.user),
        },
        status=status,
    )


@login_required
def canned_page(request, pk: int | None = None):
    """GET: the list and the form (filled with `pk` to edit it). POST: preview or save."""
    editing = None
    if pk is not None:
        editing = get_object_or_404(service.canned_list_for(user=request.user), pk=pk)
    if request.method != "POST":
        form = None
        if editing is not None:
            form = {
                "title": editing.title,
                "shortcut": editing.shortcut,
                "text": editing.text,
                "scope": service.scope_of(editing),
                "team": editing.team.slug if editing.team_id else "",
            }
        return _page(request, form=form, editing=editing)
    form = {k: request.POST.get(k, "") for k in ("title", "shortcut", "text", "scope", "team")}
    if "preview" in request.POST:
        shown = service.preview(user=request.user, text=form["text"])
        return _page(request, form=form, editing=editing, preview=shown)
    team = Team.objects.filter(slug=form["team"]).first() if form["team"] else None
    try:
        service.save_canned_response(
            actor=request.user,
            canned=editing,
            title=form["title"],
            text=form["text"],
            shortcut=form["shortcut"],
            scope=form["scope"],
            team=team,
        )
    except ValidationError as exc:
        errors = {k: list(v) for k, v in exc.message_dict.items()}
        return _page(request, form=form, editing=editing, errors=errors, status=400)
    except PermissionDenied as exc:
        return _page(request, form=form, editing=editing, errors={"scope": [str(exc)]}, status=403)
    flash.success(request, _("Canned response saved."))
    return redirect("ui:settings-canned")


@login_required
@require_POST
def canned_delete(request, pk: int):
    canned = get_object_or_404(service.canned_list_for(user=request.user), pk=pk)
    service.delete_canned_response(actor=request.user, canned=canned)
    flash.success(request, _("Canned response deleted."))
    return redirect("ui:settings-canned")
