"""Settings > Canned responses: every agent writes personal ones, team leads their team's,
admins everyone's; the variables they may use and a preview. Writes are inbox.canned's
functions, the ones /api/v1/canned-responses/ calls."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox import canned as service
from workspace.views import settings_scoped


def _page(request, *, form=None, editing=None, errors=None, preview="", status=200):
    canned = service.canned_list_for(user=request.user).order_by("title", "pk")
    return render(
        request,
        "ui/settings/canned.html",
        {
            "rows": settings_scoped.listed(request.user, canned, name="canned"),
            "form": form or {"scope": service.PERSONAL},
            "editing": editing,
            "errors": errors or {},
            "preview": preview,
            "variables": [("{{" + k + "}}", v) for k, v in service.VARIABLES.items()],
            **settings_scoped.form_context(request.user),
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
                **settings_scoped.scope_form(editing),
            }
        return _page(request, form=form, editing=editing)
    form = {k: request.POST.get(k, "") for k in ("title", "shortcut", "text", "scope", "team")}
    if "preview" in request.POST:
        shown = service.preview(user=request.user, text=form["text"])
        return _page(request, form=form, editing=editing, preview=shown)
    try:
        service.save_canned_response(
            actor=request.user,
            canned=editing,
            title=form["title"],
            text=form["text"],
            shortcut=form["shortcut"],
            scope=form["scope"],
            team=settings_scoped.team_named(form["team"]),
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
