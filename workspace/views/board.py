"""The team lead board: per team, the unassigned queue, each agent's availability and open load,
and the overnight conversations; a preview of who a spread gives what, and Undo of the last
reassignment."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Team
from accounts.permissions import can_bulk
from inbox import selectors, titles
from inbox.models import Conversation, Status
from routing import auto_assignment, services
from workspace.templatetags.ui import row_view
from workspace.views.common import User, errors_of

UNDO_KEY = "board_undo"  # the session's signed "before" of the last reassignment
UNDO_SALT = "workspace.board.undo"
UNDO_SECONDS = 600  # Undo is offered for ten minutes


def remember_for_undo(request, before: list, reason: str) -> None:
    """Keep what the conversations' team and assignee were, so the board can offer Undo."""
    request.session[UNDO_KEY] = signing.dumps(
        {"rows": before, "reason": reason, "by": request.user.pk}, salt=UNDO_SALT
    )


def _undo_rows(request) -> list | None:
    token = request.session.get(UNDO_KEY)
    if not token:
        return None
    try:
        data = signing.loads(token, salt=UNDO_SALT, max_age=UNDO_SECONDS)
    except signing.BadSignature:
        request.session.pop(UNDO_KEY, None)
        return None
    return data["rows"] if data.get("by") == request.user.pk else None


@login_required
@require_GET
def lead_board(request):
    """Per team: the unassigned queue, each agent's availability and open load, and overnight
    conversations, with a reassign-many form (to one agent or spread)."""
    if not can_bulk(request.user):
        raise PermissionDenied("The board is for leads and admins.")
    teams = (
        Team.objects.all()
        if request.user.is_admin_role
        else Team.objects.filter(memberships__user=request.user)
    ).order_by("name")
    board = []
    visible = selectors.conversation_base_for(request.user).select_related(
        "channel", "contact", "assignee"
    )
    for team in teams:
        agents = list(
            User.objects.filter(memberships__team=team, is_active=True)
            .exclude(role=User.Role.VIEWER)
            .order_by("username")
        )
        loads = auto_assignment.open_loads([a.pk for a in agents])
        for agent in agents:
            agent.open_load = loads[agent.pk]
        team_qs = visible.filter(team=team)
        board.append(
            {
                "team": team,
                "agents": agents,
                "queue": list(
                    team_qs.filter(status=Status.OPEN, assignee__isnull=True)
                    .filter(arrived_outside_hours=False)
                    .order_by("-last_message_at")[:50]
                ),
                "overnight": list(
                    team_qs.filter(services.overnight_q()).order_by("created_at")[:200]
                ),
            }
        )
    titles.attach_titles(c for b in board for c in b["queue"] + b["overnight"])
    now = timezone.now()
    for b in board:
        for c in b["queue"] + b["overnight"]:
            c.row = row_view(c, now)
    undo = _undo_rows(request)
    return render(
        request,
        "ui/board.html",
        {"board": board, "now": timezone.now(), "undo_count": len(undo) if undo else 0},
    )


@login_required
@require_POST
def spread_preview(request):
    """Who a spread would give each selected conversation to, without changing anything: the
    same plan the spread then follows (routing.services.spread_plan)."""
    if not can_bulk(request.user):
        raise PermissionDenied("The board is for leads and admins.")
    team = Team.objects.filter(slug=request.POST.get("team", "")).first()
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    context: dict = {"team": team, "error": None, "agents": [], "queued": 0}
    if team is None:
        context["error"] = _("Pick a team to spread over.")
    elif not ids:
        context["error"] = _("Pick at least one conversation.")
    else:
        rows = list(
            selectors.conversation_base_for(request.user)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "team_id", "assignee_id")
        )
        try:
            plan = services.spread_plan(team=team, rows=rows, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            context["error"] = " ".join(errors_of(exc))
        else:
            gets: dict = {}
            for step in plan.values():
                if step.agent is None:
                    context["queued"] += 1
                    continue
                entry = gets.setdefault(
                    step.agent.pk, {"agent": step.agent, "count": 0, "load": step.load_before}
                )
                entry["count"] += 1
            loads = auto_assignment.open_loads(list(gets))
            for entry in gets.values():
                entry["load"] = loads[entry["agent"].pk]
                entry["after"] = entry["load"] + entry["count"]
            context["agents"] = sorted(gets.values(), key=lambda e: e["agent"].username)
    return render(request, "ui/_spread_preview.html", context)


@login_required
@require_POST
def undo_reassign(request):
    """Put the conversations of the last reassignment back with their team and agent."""
    if not can_bulk(request.user):
        raise PermissionDenied("The board is for leads and admins.")
    rows = _undo_rows(request)
    request.session.pop(UNDO_KEY, None)
    if not rows:
        flash.error(request, _("There is nothing to undo any more (Undo lasts ten minutes)."))
        return redirect(reverse("ui:board"))
    teams = dict(Team.objects.in_bulk([t for _, t, _ in rows if t]).items())
    users = dict(User.objects.in_bulk([a for _, _, a in rows if a]).items())
    restored = 0
    for pk, team_id, assignee_id in rows:
        try:
            services.assign_conversation(
                conversation_id=pk,
                team=teams.get(team_id),
                assignee=users.get(assignee_id),
                actor=request.user,
                reason=_("undo"),
            )
            restored += 1
        except (PermissionDenied, ValidationError, Conversation.DoesNotExist):
            continue  # moved out of this lead's reach since: left as it is
    flash.success(
        request,
        ngettext(
            "Undone: %(n)d conversation is back where it was.",
            "Undone: %(n)d conversations are back where they were.",
            restored,
        )
        % {"n": restored},
    )
    return redirect(reverse("ui:board"))
