"""/api/v1/teams/, /users/ and /memberships/. Listing teams and users is reference data for
every user (CONTRACT.md); changing them is for admins (a team's leads may change its
memberships) and goes through accounts.people, the functions the settings page calls too."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import people
from accounts.models import Membership, SurveyKind, Team, User
from accounts.permissions import can_administer


class AdminWrites(BasePermission):
    """Anyone signed in reads; only admins write (with an admin-scope token)."""

    message = "Only admins may do this."
    token_scope_writes = "admin"  # accounts/authentication.py

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return can_administer(request.user)


class IsAdminRole(BasePermission):
    message = "Only admins may do this."
    token_scope = "admin"  # API tokens need the admin scope here (accounts/authentication.py)

    def has_permission(self, request, view):
        return can_administer(request.user)


def refused(exc: DjangoValidationError) -> ValidationError:
    """A service's field errors as a 400 naming the fields."""
    if hasattr(exc, "error_dict"):
        return ValidationError({k: list(v) for k, v in exc.message_dict.items()})
    return ValidationError({"non_field_errors": exc.messages})


class TeamOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "slug", "name", "description", "survey_kind"]


class TeamInputSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    slug = serializers.CharField(required=False, allow_blank=True)
    survey_kind = serializers.ChoiceField(
        choices=SurveyKind.choices,
        required=False,
        allow_blank=True,
        help_text="The survey after this team's resolutions; blank: the channel's choice.",
    )


class UserOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    teams = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "role", "availability", "capacity", "teams"]

    def get_teams(self, obj) -> list[str]:
        return sorted(team.slug for team in obj.teams.all())


class UserDetailSerializer(UserOutputSerializer):
    class Meta(UserOutputSerializer.Meta):
        fields = [*UserOutputSerializer.Meta.fields, "email", "time_zone", "is_active"]


class InviteInputSerializer(serializers.Serializer):
    email = serializers.CharField(allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True, default="")
    role = serializers.CharField(required=False, default=User.Role.AGENT)
    capacity = serializers.IntegerField(required=False, allow_null=True, default=None)
    time_zone = serializers.CharField(required=False, allow_blank=True, default="")
    team = serializers.CharField(required=False, allow_blank=True, default="", help_text="slug")


class UserPatchSerializer(serializers.Serializer):
    role = serializers.CharField(required=False)
    capacity = serializers.IntegerField(required=False)
    time_zone = serializers.CharField(required=False, allow_blank=True)


class MembershipOutputSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    username = serializers.CharField(source="user.username")
    role = serializers.CharField(help_text="member or lead")

    class Meta:
        model = Membership
        fields = ["id", "team", "user", "username", "role"]


class MembershipInputSerializer(serializers.Serializer):
    team = serializers.CharField(help_text="The team's slug.")
    user = serializers.IntegerField()
    role = serializers.CharField(required=False, default=Membership.Role.MEMBER)


def _team_by_slug(slug: str, field: str = "team") -> Team | None:
    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise ValidationError({field: [_("No team %r.") % slug]})
    return team


class TeamListApi(APIView):
    permission_classes = [IsAuthenticated, AdminWrites]

    @extend_schema(responses=TeamOutputSerializer(many=True))
    def get(self, request):
        return Response(TeamOutputSerializer(Team.objects.order_by("slug"), many=True).data)

    @extend_schema(request=TeamInputSerializer, responses={201: TeamOutputSerializer})
    def post(self, request):
        data = TeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            team = people.save_team(actor=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(TeamOutputSerializer(team).data, status=201)


class TeamDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=TeamOutputSerializer)
    def get(self, request, pk: int):
        return Response(TeamOutputSerializer(get_object_or_404(Team, pk=pk)).data)

    @extend_schema(request=TeamInputSerializer, responses=TeamOutputSerializer)
    def patch(self, request, pk: int):
        team = get_object_or_404(Team, pk=pk)
        data = TeamInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            people.save_team(
                actor=request.user,
                team=team,
                name=data.validated_data.get("name", team.name),
                survey_kind=data.validated_data.get("survey_kind"),
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(TeamOutputSerializer(team).data)


class UserListApi(APIView):
    permission_classes = [IsAuthenticated, AdminWrites]

    @extend_schema(responses=UserOutputSerializer(many=True))
    def get(self, request):
        users = User.objects.filter(is_active=True).prefetch_related("teams").order_by("username")
        return Response(UserOutputSerializer(users, many=True).data)

    @extend_schema(
        request=InviteInputSerializer,
        responses={201: UserDetailSerializer},
        description="Invite someone by email: an inactive account and a mail with a link to "
        "choose a password.",
    )
    def post(self, request):
        data = InviteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        team = _team_by_slug(values.pop("team"))
        try:
            user = people.invite_user(actor=request.user, team=team, **values)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(UserDetailSerializer(user).data, status=201)


class UserDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=UserDetailSerializer)
    def get(self, request, pk: int):
        return Response(UserDetailSerializer(get_object_or_404(User, pk=pk)).data)

    @extend_schema(request=UserPatchSerializer, responses=UserDetailSerializer)
    def patch(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        data = UserPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            people.update_user(actor=request.user, user=user, **data.validated_data)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(UserDetailSerializer(user).data)


class ResendInvitationApi(APIView):
    """Mail an invited person (not yet joined) a fresh set-password link."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, pk: int):
        user = get_object_or_404(User, pk=pk)
        try:
            people.resend_invitation(actor=request.user, user=user)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(status=204)


class ManagesMemberships(BasePermission):
    """Admins, and the leads of a team (for that team's members: accounts.people)."""

    message = _lazy("Only admins and team leads may do this.")
    token_scope = "admin"  # a settings endpoint (accounts/authentication.py)

    def has_permission(self, request, view):
        return can_administer(request.user) or people.leads_a_team(request.user)


class MembershipListApi(APIView):
    """Admins see and change every team's members, leads the teams they lead."""

    permission_classes = [IsAuthenticated, ManagesMemberships]

    @extend_schema(responses=MembershipOutputSerializer(many=True))
    def get(self, request):
        rows = Membership.objects.select_related("team", "user").order_by("team__slug", "user_id")
        if not can_administer(request.user):
            led = Membership.objects.filter(user=request.user, role=Membership.Role.LEAD)
            rows = rows.filter(team_id__in=led.values("team_id"))
        if request.query_params.get("team"):
            rows = rows.filter(team__slug=request.query_params["team"])
        return Response(MembershipOutputSerializer(rows, many=True).data)

    @extend_schema(request=MembershipInputSerializer, responses={201: MembershipOutputSerializer})
    def post(self, request):
        data = MembershipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = _team_by_slug(data.validated_data["team"])
        if team is None:
            raise ValidationError({"team": [_("Give the team's slug.")]})
        user = User.objects.filter(pk=data.validated_data["user"]).first()
        if user is None:
            raise ValidationError({"user": [_("No such user.")]})
        try:
            membership = people.set_membership(
                actor=request.user, team=team, user=user, role=data.validated_data["role"]
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(MembershipOutputSerializer(membership).data, status=201)


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.CharField()


class MembershipDetailApi(APIView):
    permission_classes = [IsAuthenticated, ManagesMemberships]

    @extend_schema(request=MembershipRoleSerializer, responses=MembershipOutputSerializer)
    def patch(self, request, pk: int):
        membership = get_object_or_404(Membership.objects.select_related("team", "user"), pk=pk)
        data = MembershipRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership = people.set_membership(
                actor=request.user,
                team=membership.team,
                user=membership.user,
                role=data.validated_data["role"],
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(MembershipOutputSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        membership = get_object_or_404(Membership.objects.select_related("team", "user"), pk=pk)
        people.remove_membership(actor=request.user, membership=membership)
        return Response(status=204)
