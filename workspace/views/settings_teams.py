"""Settings > Teams and people: teams with their members, inviting someone by email, a person's
role, capacity and time zone. Admins do everything; a team's leads manage its members. Writes
are accounts.people's functions, the ones /api/v1/teams|users|memberships/ call."""

from zoneinfo import available_timezones

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import people
from accounts.models import Membership, SurveyKind, Team, User
from accounts.permissions import can_administer


def _teams_for(user):
    teams = Team.objects.prefetch_related("memberships__user").order_by("name")
    if can_administer(user):
        return teams
    return teams.filter(memberships__user=user, memberships__role=Membership.Role.LEAD)


def _page(request, *, errors=None, form=None, status=200):
    teams = list(_teams_for(request.user))
    if not teams and not can_administer(request.user):
        raise PermissionDenied
    is_admin = can_administer(request.user)
    return render(
        request,
        "ui/settings/teams.html",
        {
            "teams": teams,
            "people": User.objects.order_by("username") if is_admin else [],
            "everyone": User.objects.filter(is_active=True).order_by("username"),
            "is_admin": is_admin,
            "roles": User.Role.choices,
            "membership_roles": Membership.Role.choices,
            "time_zones": sorted(available_timezones()),
            "survey_kinds": SurveyKind.choices,
            "errors": errors or {},
            "form": form or {},
        },
        status=status,
    )


@login_required
def teams_page(request):
    return _page(request)


def _fail(request, exc, form):
    if isinstance(exc, PermissionDenied):
        raise exc
    errors = {k: list(v) for k, v in exc.message_dict.items()}
    return _page(request, errors=errors, form=form, status=400)


@login_required
@require_POST
def team_save(request, pk: int | None = None):
    team = get_object_or_404(Team, pk=pk) if pk else None
    form = {"name": request.POST.get("name", ""), "slug": request.POST.get("slug", "")}
    try:
        people.save_team(
            actor=request.user,
            team=team,
            name=form["name"],
            slug=form["slug"],
            survey_kind=request.POST.get("survey_kind"),  # absent: left as it is
        )
    except (ValidationError, PermissionDenied) as exc:
        return _fail(request, exc, form)
    flash.success(request, _("Team saved."))
    return redirect("ui:settings-teams")


@login_required
@require_POST
def invite(request):
    form = {k: request.POST.get(k, "") for k in ("email", "name", "role", "team", "time_zone")}
    team = Team.objects.filter(slug=form["team"]).first() if form["team"] else None
    try:
        user = people.invite_user(
            actor=request.user,
            email=form["email"],
            name=form["name"],
            role=form["role"] or User.Role.AGENT,
            time_zone=form["time_zone"],
            team=team,
        )
    except (ValidationError, PermissionDenied) as exc:
        return _fail(request, exc, form)
    flash.success(request, _("Invitation sent to %s.") % user.email)
    return redirect("ui:settings-teams")


@login_required
@require_POST
def person_save(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    try:
        people.update_user(
            actor=request.user,
            user=user,
            role=request.POST.get("role"),
            capacity=request.POST.get("capacity"),
            time_zone=request.POST.get("time_zone"),
        )
    except (ValidationError, PermissionDenied) as exc:
        return _fail(request, exc, {})
    flash.success(request, _("%s saved.") % user.display_name)
    return redirect("ui:settings-teams")


@login_required
@require_POST
def membership_save(request, team_pk: int):
    team = get_object_or_404(Team, pk=team_pk)
    user = User.objects.filter(pk=request.POST.get("user") or 0).first()
    if user is None:
        return _page(request, errors={"user": [_("Choose a person.")]}, status=400)
    try:
        people.set_membership(
            actor=request.user, team=team, user=user, role=request.POST.get("role", "member")
        )
    except (ValidationError, PermissionDenied) as exc:
        return _fail(request, exc, {})
    flash.success(request, _("%(who)s is in %(team)s.") % {"who": user.display_name, "team": team})
    return redirect("ui:settings-teams")


@login_required
@require_POST
def membership_remove(request, pk: int):
    membership = get_object_or_404(Membership.objects.select_related("team", "user"), pk=pk)
    people.remove_membership(actor=request.user, membership=membership)
    flash.success(request, _("Removed from the team."))
    return redirect("ui:settings-teams")


@login_required
@require_POST
def resend(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    try:
        people.resend_invitation(actor=request.user, user=user)
    except (ValidationError, PermissionDenied) as exc:
        return _fail(request, exc, {})
    flash.success(request, _("Invitation sent again to %s.") % user.email)
    return redirect("ui:settings-teams")
