"""Admin API for outbound webhooks. Views are thin: they validate, call one service, render."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from inbox.api import IsAdminRole
from integrations import schemas, services
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    secret = serializers.CharField(
        min_length=16,
        max_length=255,
        required=False,
        write_only=True,
        help_text="Omit to have one generated (returned once, in the response to this POST).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=schemas.EVENT_TYPES), min_length=1, max_length=50
    )
    description = serializers.CharField(
        max_length=255, required=False, default="", allow_blank=True
    )
    enabled = serializers.BooleanField(required=False, default=True)


class EndpointUpdateSerializer(EndpointInputSerializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=schemas.EVENT_TYPES),
        min_length=1,
        max_length=50,
        required=False,
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class EndpointOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "enabled",
            "description",
            "created_by",
            "created_at",
            "updated_at",
            "consecutive_failures",
            "disabled_reason",
        ]


class EndpointCreatedSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="Shown once. Store it to verify signatures.")

    class Meta(EndpointOutputSerializer.Meta):
        fields = [*EndpointOutputSerializer.Meta.fields, "secret"]


class AttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["at", "status_code", "latency_ms", "response_body", "error"]


class DeliveryOutputSerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="event_id")
    attempts_log = AttemptOutputSerializer(source="log", many=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "webhook_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "finished_at",
            "payload",
            "attempts_log",
        ]


class ReplayRangeInputSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()


QueuedSerializer = inline_serializer("ReplayQueued", {"queued": serializers.IntegerField()})
TestResultSerializer = inline_serializer(
    "WebhookTestResult",
    {"status_code": serializers.IntegerField(allow_null=True, help_text="null: no answer.")},
)


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk)


class AdminApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]


class EndpointListApi(AdminApi):
    """Outbound webhook endpoints. A URL whose host resolves to an internal address is refused."""

    @extend_schema(responses=EndpointOutputSerializer(many=True))
    def get(self, request):
        rows = WebhookEndpoint.objects.select_related("created_by").order_by("id")
        return Response(EndpointOutputSerializer(rows, many=True).data)

    @extend_schema(request=EndpointInputSerializer, responses={201: EndpointCreatedSerializer})
    def post(self, request):
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        endpoint, secret = services.endpoint_create(
            actor=request.user,
            url=values["url"],
            event_types=values["events"],
            secret=values.get("secret"),
            description=values["description"],
            enabled=values["enabled"],
        )
        endpoint.secret = secret
        return Response(EndpointCreatedSerializer(endpoint).data, status=201)


class EndpointDetailApi(AdminApi):
    @extend_schema(responses=EndpointOutputSerializer)
    def get(self, request, pk):
        return Response(EndpointOutputSerializer(_endpoint(pk)).data)

    @extend_schema(request=EndpointUpdateSerializer, responses=EndpointOutputSerializer)
    def patch(self, request, pk):
        endpoint = _endpoint(pk)
        data = EndpointUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "events" in values:
            values["event_types"] = values.pop("events")
        endpoint = services.endpoint_update(endpoint_id=endpoint.pk, actor=request.user, **values)
        return Response(EndpointOutputSerializer(_endpoint(endpoint.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.endpoint_delete(endpoint_id=_endpoint(pk).pk, actor=request.user)
        return Response(status=204)


class DeliveryListApi(AdminApi):
    """The delivery log of one endpoint, newest first, with every attempt."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=WebhookDelivery.Status.values),
            OpenApiParameter("before", OpenApiTypes.INT, description="A delivery id (paging)."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200; default 50."),
        ],
        responses=inline_serializer(
            "WebhookDeliveryPage",
            {
                "next": serializers.CharField(allow_null=True),
                "results": DeliveryOutputSerializer(many=True),
            },
        ),
    )
    def get(self, request, pk):
        endpoint = _endpoint(pk)
        params = request.query_params
        rows = WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related("log")
        status = params.get("status")
        if status:
            if status not in WebhookDelivery.Status.values:
                raise ValidationError(
                    {"status": [f"One of {', '.join(WebhookDelivery.Status.values)}."]}
                )
            rows = rows.filter(status=status)
        try:
            size = min(max(int(params.get("page_size", 50)), 1), 200)
            before = int(params.get("before", 0))
        except ValueError as exc:
            raise ValidationError({"detail": "page_size and before are whole numbers."}) from exc
        if before:
            rows = rows.filter(pk__lt=before)
        page = list(rows.order_by("-id")[: size + 1])
        next_link = None
        if len(page) > size:
            page = page[:size]
            next_link = replace_query_param(request.build_absolute_uri(), "before", page[-1].pk)
        return Response(
            {"next": next_link, "results": DeliveryOutputSerializer(page, many=True).data}
        )


class DeliveryReplayApi(AdminApi):
    @extend_schema(request=None, responses={202: DeliveryOutputSerializer})
    def post(self, request, pk):
        delivery = get_object_or_404(WebhookDelivery, pk=pk)
        delivery = services.replay_delivery(delivery_id=delivery.pk, actor=request.user)
        return Response(DeliveryOutputSerializer(delivery).data, status=202)


class EndpointReplayApi(AdminApi):
    """Send again every event of the endpoint's types committed in [since, until)."""

    @extend_schema(request=ReplayRangeInputSerializer, responses={202: QueuedSerializer})
    def post(self, request, pk):
        endpoint = _endpoint(pk)
        data = ReplayRangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = services.replay_range(
            endpoint_id=endpoint.pk, actor=request.user, **data.validated_data
        )
        return Response({"queued": queued}, status=202)


class EndpointTestApi(AdminApi):
    """POST a signed `webhook.test` body now; only the receiver's status code comes back."""

    @extend_schema(request=None, responses=TestResultSerializer)
    def post(self, request, pk):
        return Response({"status_code": services.send_test(endpoint_id=_endpoint(pk).pk)})


class WebhookEventListApi(APIView):
    """The webhook event types, each with its versioned JSON schema and an example body."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "WebhookEventType",
            {
                "type": serializers.CharField(),
                "version": serializers.IntegerField(),
                "description": serializers.CharField(),
                "schema": serializers.JSONField(),
                "example": serializers.JSONField(),
            },
            many=True,
        )
    )
    def get(self, request):
        return Response(schemas.catalogue())
