"""The team lead board: per team, the unassigned queue, each agent's availability and open load,
and the overnight conversations."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Team
from accounts.permissions import can_bulk
from inbox import selectors, titles
from inbox.models import Status
from routing import auto_assignment, services
from workspace.views.common import User


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
    return render(request, "ui/board.html", {"board": board, "now": timezone.now()})
