"""Incident spike alerts and the watch words, for leads and admins (tagging.spikes)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_see_spike_alerts
from inbox.api import IsAdminRole
from inbox.filters import StrictBooleanField
from tagging import spikes
from tagging.models import SpikeAlert, WatchWord

LIST_LIMIT = 200


class SeesSpikeAlerts(BasePermission):
    message = "Spike alerts are for leads and admins."

    def has_permission(self, request, view):
        return can_see_spike_alerts(request.user)


class SpikeAlertOutputSerializer(serializers.ModelSerializer):
    conversations = serializers.ListField(
        source="samples", child=serializers.IntegerField(), help_text="A sample, newest first."
    )
    is_open = serializers.BooleanField()

    class Meta:
        model = SpikeAlert
        fields = [
            "id",
            "kind",
            "watch",
            "count",
            "peak",
            "baseline",
            "threshold",
            "window_minutes",
            "conversations",
            "opened_at",
            "closed_at",
            "is_open",
        ]


class SpikeAlertInputSerializer(serializers.Serializer):
    open = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: only open alerts."
    )


class SpikeAlertListApi(APIView):
    """Incident spike alerts, newest first (at most 200); `?open=true` for those still open.
    Leads and admins only: agents and viewers get 403. Each alert's conversations are listed by
    GET /api/v1/conversations/?alert=ID."""

    permission_classes = [IsAuthenticated, SeesSpikeAlerts]

    @extend_schema(
        parameters=[SpikeAlertInputSerializer],
        responses=SpikeAlertOutputSerializer(many=True),
    )
    def get(self, request):
        unknown = sorted(set(request.query_params) - {"open", "format"})
        if unknown:
            raise ValidationError(
                {name[:100]: ["Unknown filter. Known: open."] for name in unknown}
            )
        raw = request.query_params.get("open")
        only_open = None
        if raw not in (None, ""):
            try:
                only_open = StrictBooleanField().clean(raw)
            except DjangoValidationError as exc:
                raise ValidationError({"open": exc.messages}) from None
        rows = SpikeAlert.objects.order_by("-opened_at", "-id")
        if only_open is not None:
            rows = rows.filter(closed_at__isnull=only_open)
        return Response(SpikeAlertOutputSerializer(rows[:LIST_LIMIT], many=True).data)


class WatchWordOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WatchWord
        fields = ["id", "word", "is_active", "created_at"]


class WatchWordInputSerializer(serializers.Serializer):
    word = serializers.CharField(max_length=64)


class AdminWrites(BasePermission):
    message = IsAdminRole.message

    def has_permission(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return IsAdminRole().has_permission(request, view)


class WatchWordListApi(APIView):
    """The words and phrases watched for spikes beside the watched tags: leads and admins read
    them, admins add them."""

    permission_classes = [IsAuthenticated, SeesSpikeAlerts, AdminWrites]

    @extend_schema(responses=WatchWordOutputSerializer(many=True))
    def get(self, request):
        return Response(WatchWordOutputSerializer(WatchWord.objects.all(), many=True).data)

    @extend_schema(request=WatchWordInputSerializer, responses={201: WatchWordOutputSerializer})
    def post(self, request):
        data = WatchWordInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            word = spikes.add_watch_word(actor=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(WatchWordOutputSerializer(word).data, status=201)


class WatchWordDetailApi(APIView):
    """Stop watching a word (admins)."""

    permission_classes = [IsAuthenticated, SeesSpikeAlerts, AdminWrites]

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        if not WatchWord.objects.filter(pk=pk).exists():
            raise NotFound("No such watch word.")
        spikes.remove_watch_word(word_id=pk)
        return Response(status=204)
