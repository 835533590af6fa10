"""/api/v1/business-hours/ and /api/v1/sla-policies/: the REST twins of the settings pages,
through routing.calendars and routing.sla_settings (the functions the pages call). SLA policies
are for admins; business hours for admins and, for their own teams' calendars, team leads."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import IsAdminRole, refused
from accounts.models import Team
from inbox.models import Channel, Severity
from routing import calendars, sla_settings
from routing.models import BusinessHours, SLAPolicy
from tagging.models import Tag


class ManagesHours(BasePermission):
    message = "Only admins and team leads may do this."
    token_scope = "admin"  # a settings endpoint (accounts/authentication.py)

    def has_permission(self, request, view):
        return calendars.may_manage_hours(request.user)


def _calendar(request, pk: int) -> BusinessHours:
    return get_object_or_404(calendars.visible_calendars(request.user), pk=pk)


def _teams(slugs) -> list[Team] | None:
    if slugs is None:
        return None
    teams = list(Team.objects.filter(slug__in=slugs))
    missing = set(slugs) - {t.slug for t in teams}
    if missing:
        raise ValidationError({"teams": [_("No team %r.") % slug for slug in sorted(missing)]})
    return teams


class BusinessHoursOutputSerializer(serializers.ModelSerializer):
    teams = serializers.SerializerMethodField()

    class Meta:
        model = BusinessHours
        fields = ["id", "name", "timezone", "always_open", "weekly", "holidays", "teams"]

    def get_teams(self, obj) -> list[str]:
        return [team.slug for team in calendars.teams_of(obj)]


class BusinessHoursInputSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    timezone = serializers.CharField(allow_blank=True, help_text="An IANA zone, like Asia/Jakarta.")
    always_open = serializers.BooleanField(required=False, default=False)
    weekly = serializers.JSONField(
        required=False, help_text='{"mon": [["09:00", "17:00"]], ...} in local time'
    )
    holidays = serializers.JSONField(required=False, help_text='["2027-01-01", ...]')
    teams = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Slugs of the teams using it."
    )


class BusinessHoursPatchSerializer(BusinessHoursInputSerializer):
    name = serializers.CharField(required=False, allow_blank=True)
    timezone = serializers.CharField(required=False, allow_blank=True)
    always_open = serializers.BooleanField(required=False)


def _save(request, calendar: BusinessHours | None, data: dict) -> BusinessHours:
    teams = _teams(data.pop("teams", None))
    if calendar is not None:
        data.setdefault("name", calendar.name)
        data.setdefault("timezone", calendar.timezone)
        data.setdefault("always_open", calendar.always_open)
    try:
        return calendars.save_calendar(actor=request.user, calendar=calendar, teams=teams, **data)
    except DjangoValidationError as exc:
        raise refused(exc) from exc


class BusinessHoursListApi(APIView):
    permission_classes = [IsAuthenticated, ManagesHours]

    @extend_schema(responses=BusinessHoursOutputSerializer(many=True))
    def get(self, request):
        rows = calendars.visible_calendars(request.user)
        return Response(BusinessHoursOutputSerializer(rows, many=True).data)

    @extend_schema(
        request=BusinessHoursInputSerializer, responses={201: BusinessHoursOutputSerializer}
    )
    def post(self, request):
        data = BusinessHoursInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = _save(request, None, dict(data.validated_data))
        return Response(BusinessHoursOutputSerializer(calendar).data, status=201)


class BusinessHoursDetailApi(APIView):
    permission_classes = [IsAuthenticated, ManagesHours]

    @extend_schema(responses=BusinessHoursOutputSerializer)
    def get(self, request, pk: int):
        return Response(BusinessHoursOutputSerializer(_calendar(request, pk)).data)

    @extend_schema(request=BusinessHoursPatchSerializer, responses=BusinessHoursOutputSerializer)
    def patch(self, request, pk: int):
        calendar = _calendar(request, pk)
        data = BusinessHoursPatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        calendar = _save(request, calendar, dict(data.validated_data))
        return Response(BusinessHoursOutputSerializer(calendar).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        calendars.delete_calendar(actor=request.user, calendar=_calendar(request, pk))
        return Response(status=204)


class PublicHolidaysInputSerializer(serializers.Serializer):
    country = serializers.CharField(allow_blank=True, help_text="ISO 3166 code, like ID or US.")
    year = serializers.CharField(allow_blank=True)


class BusinessHoursPublicHolidaysApi(APIView):
    """Add a country's public holidays for a year (the `holidays` package) to the calendar."""

    permission_classes = [IsAuthenticated, ManagesHours]

    @extend_schema(
        request=PublicHolidaysInputSerializer,
        responses=inline_serializer(
            "PublicHolidaysAdded",
            {
                "added": serializers.ListField(child=serializers.CharField()),
                "calendar": BusinessHoursOutputSerializer(),
            },
        ),
    )
    def post(self, request, pk: int):
        calendar = _calendar(request, pk)
        data = PublicHolidaysInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            added = calendars.add_public_holidays(
                actor=request.user, calendar=calendar, **data.validated_data
            )
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response({"added": added, "calendar": BusinessHoursOutputSerializer(calendar).data})


# --- SLA policies ------------------------------------------------------------------------------


class SLAPolicyOutputSerializer(serializers.ModelSerializer):
    severity = serializers.SerializerMethodField()
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    tag = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = SLAPolicy
        fields = [
            "id",
            "name",
            "severity",
            "team",
            "channel",
            "tag",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "business_hours_only",
            "business_hours",
            "warning_percent",
            "is_active",
        ]

    def get_severity(self, obj) -> str:
        return Severity(obj.severity).label


class SLAPolicyInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    severity = serializers.CharField(required=False, help_text="low, normal, high or critical")
    team = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    channel = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    tag = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    first_response_minutes = serializers.CharField(required=False)
    next_response_minutes = serializers.CharField(required=False)
    resolution_minutes = serializers.CharField(required=False)
    business_hours_only = serializers.BooleanField(required=False)
    business_hours = serializers.IntegerField(required=False, allow_null=True)
    warning_percent = serializers.CharField(required=False)
    is_active = serializers.BooleanField(required=False)


class SLAPreviewSerializer(serializers.Serializer):
    arriving_at = serializers.DateTimeField()
    calendar = serializers.CharField(allow_null=True)
    timezone = serializers.CharField()
    first_response_due = serializers.DateTimeField(allow_null=True)
    next_response_due = serializers.DateTimeField(allow_null=True)
    resolution_due = serializers.DateTimeField(allow_null=True)


def _resolve(values: dict) -> dict:
    """Slugs and ids to rows; an unknown one is a 400 naming the field."""
    lookups = {
        "team": (Team, "slug"),
        "channel": (Channel, "slug"),
        "tag": (Tag, "slug"),
        "business_hours": (BusinessHours, "pk"),
    }
    for field, (model, key) in lookups.items():
        if field not in values:
            continue
        if values[field] in (None, ""):
            values[field] = None
            continue
        row = model.objects.filter(**{key: values[field]}).first()
        if row is None:
            raise ValidationError(
                {
                    field: [
                        _("Nothing by %(value)r for %(field)s.")
                        % {"value": values[field], "field": field}
                    ]
                }
            )
        values[field] = row
    return values


def _policy_values(request, *, partial: bool) -> dict:
    data = SLAPolicyInputSerializer(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    return _resolve(dict(data.validated_data))


class SLAPolicyListApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=SLAPolicyOutputSerializer(many=True))
    def get(self, request):
        rows = SLAPolicy.objects.select_related("team", "channel", "tag").order_by(
            "-severity", "name"
        )
        return Response(SLAPolicyOutputSerializer(rows, many=True).data)

    @extend_schema(request=SLAPolicyInputSerializer, responses={201: SLAPolicyOutputSerializer})
    def post(self, request):
        values = _policy_values(request, partial=False)
        try:
            policy = sla_settings.save_policy(actor=request.user, **values)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(SLAPolicyOutputSerializer(policy).data, status=201)


class SLAPolicyDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=SLAPolicyOutputSerializer)
    def get(self, request, pk: int):
        return Response(SLAPolicyOutputSerializer(get_object_or_404(SLAPolicy, pk=pk)).data)

    @extend_schema(
        request=SLAPolicyInputSerializer,
        responses=SLAPolicyOutputSerializer,
        description="Change a policy; `is_active: false` deactivates it (kept, matching nothing).",
    )
    def patch(self, request, pk: int):
        policy = get_object_or_404(SLAPolicy, pk=pk)
        values = _policy_values(request, partial=True)
        try:
            policy = sla_settings.save_policy(actor=request.user, policy=policy, **values)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(SLAPolicyOutputSerializer(policy).data)


class SLAPolicyPreviewApi(APIView):
    """When a conversation the policy covers, arriving now, would be due (the live clock's own
    arithmetic). GET for a stored policy; POST a policy's fields to preview before saving."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=SLAPreviewSerializer)
    def get(self, request, pk: int):
        policy = get_object_or_404(SLAPolicy, pk=pk)
        return Response(SLAPreviewSerializer(sla_settings.preview(policy)).data)

    @extend_schema(
        request=SLAPolicyInputSerializer,
        responses=SLAPreviewSerializer,
        description="Preview the policy with these changes, without saving them.",
    )
    def post(self, request, pk: int):
        return _preview(request, get_object_or_404(SLAPolicy, pk=pk))


class SLAPolicyDraftPreviewApi(APIView):
    """When a conversation a policy with these fields would cover, arriving now, would be due;
    nothing is saved."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(
        operation_id="v1_sla_policies_draft_preview",
        request=SLAPolicyInputSerializer,
        responses=SLAPreviewSerializer,
    )
    def post(self, request):
        return _preview(request, None)


def _preview(request, policy: SLAPolicy | None) -> Response:
    values = _policy_values(request, partial=policy is not None)
    try:
        unsaved = sla_settings.clean(values, policy=policy)
    except DjangoValidationError as exc:
        raise refused(exc) from exc
    return Response(SLAPreviewSerializer(sla_settings.preview(unsaved)).data)
