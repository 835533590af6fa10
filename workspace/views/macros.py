"""Running a macro from the pages: the triage panel's "Run macro" (one conversation, htmx like
the other triage forms) and the list's bulk bar (a selection). Both call routing.macros, the
functions /api/v1/ calls."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import can_bulk
from routing import macros as service
from workspace.views.actions import _act, bulk_action
from workspace.views.common import back


def _macro(request, raw):
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise ValueError(_("Pick a macro.")) from None
    return get_object_or_404(service.macros_for(user=request.user), pk=pk)


@login_required
@require_POST
def run_macro(request, pk):
    """The triage panel's "Run macro": all of it or, when a step is refused, none of it."""

    def action(conversation):
        macro = _macro(request, request.POST.get("macro"))
        changes = service.run_macro(
            macro=macro, conversation_id=conversation.pk, actor=request.user
        )
        if not changes:
            return _("Macro “%s” ran: nothing needed changing.") % macro.name
        return _("Macro “%(name)s” ran: %(changes)s.") % {
            "name": macro.name,
            "changes": "; ".join(service.describe(c) for c in changes),
        }

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def bulk_bar(request):
    """The list's bulk bar: "Run macro" here, every other action in actions.bulk_action."""
    if request.POST.get("action") == "macro":
        return bulk_run(request)
    return bulk_action(request)


def bulk_run(request):
    """The bulk bar's "Run macro" on the selected conversations (leads and admins), each its own
    all-or-nothing run; the refusals are shown beside the bar, one per conversation."""
    if not can_bulk(request.user):
        raise PermissionDenied(_("Bulk actions are for leads and admins."))
    fallback = reverse("ui:inbox")
    ids = [i for i in request.POST.getlist("ids") if i.isdigit()]
    if not ids:
        flash.error(request, _("Select at least one conversation."), extra_tags="bulk")
        return back(request, fallback)
    try:
        macro = _macro(request, request.POST.get("macro"))
    except ValueError as exc:
        flash.error(request, str(exc), extra_tags="bulk")
        return back(request, fallback)
    result = service.run_macro_many(macro=macro, conversation_ids=ids, actor=request.user)
    for pk, why in result.refused.items():
        flash.error(request, _("#%(id)d: %(why)s") % {"id": pk, "why": why}, extra_tags="bulk")
    flash.success(
        request,
        ngettext(
            "%(done)d of %(n)d conversation changed.",
            "%(done)d of %(n)d conversations changed.",
            len(ids),
        )
        % {"done": len(result.done), "n": len(ids)},
    )
    return back(request, fallback)
