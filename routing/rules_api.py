"""/api/v1/routing-rules/: the REST twin of Settings > Rules for routing rules, through
routing.rule_settings (the functions the page calls). Admins only. A condition's or action's
error comes back nested under its name: {"conditions": {"tags_any": ["Unknown tag: x."]}}."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import IsAdminRole
from routing import rule_settings
from routing.models import RoutingRule

CONDITIONS_HELP = (
    '{"channels": [slug], "keywords": [text], "sender_domains": [domain], "tags_any": [slug], '
    '"severity_at_least": "high", "contact_attribute": {"key": k, "value": v}, '
    '"outside_business_hours": bool, "automated": true}; all given must hold'
)
ACTIONS_HELP = (
    '{"add_tags": [slug], "set_severity": name, "assign_team": slug, "assign_agent": username, '
    '"set_status": "open"|"pending"|"resolved"|"spam", "send_canned": canned response id}'
)


def refused(exc: DjangoValidationError) -> ValidationError:
    """The service's errors as a 400; "conditions.x" becomes {"conditions": {"x": [...]}}."""
    if not hasattr(exc, "error_dict"):
        return ValidationError({"non_field_errors": exc.messages})
    nested: dict = {}
    for key, messages in exc.message_dict.items():
        field, _dot, sub = key.partition(".")
        if sub:
            slot = nested.setdefault(field, {})
            if isinstance(slot, list):  # the field's own error came first: keep both
                nested[field] = slot = {"non_field_errors": slot}
            slot[sub] = list(messages)
        elif isinstance(nested.get(field), dict):
            nested[field]["non_field_errors"] = list(messages)
        else:
            nested[field] = list(messages)
    return ValidationError(nested)


class RoutingRuleOutputSerializer(serializers.ModelSerializer):
    conditions = serializers.JSONField(help_text=CONDITIONS_HELP)
    actions = serializers.JSONField(help_text=ACTIONS_HELP)

    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "name",
            "position",
            "is_active",
            "conditions",
            "actions",
            "stop_processing",
        ]


class RoutingRuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    conditions = serializers.JSONField(required=False, help_text=CONDITIONS_HELP)
    actions = serializers.JSONField(required=False, help_text=ACTIONS_HELP)
    stop_processing = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(
        required=False, min_value=0, max_value=1_000_000, help_text="Lower runs first."
    )


class PreviewConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    channel = serializers.CharField(source="channel.slug")
    contact = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_contact(self, obj) -> str:
        return str(obj.contact)


class RoutingRulePreviewSerializer(serializers.Serializer):
    examined = serializers.IntegerField(help_text="How many recent conversations were looked at.")
    would_match = serializers.ListField(child=serializers.IntegerField())
    conversations = PreviewConversationSerializer(many=True)


def _values(request) -> dict:
    data = RoutingRuleInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class RoutingRuleListApi(APIView):
    """Routing rules in the order they run; POST adds one at the end (unless `position`)."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=RoutingRuleOutputSerializer(many=True))
    def get(self, request):
        rows = RoutingRule.objects.order_by("position", "id")
        return Response(RoutingRuleOutputSerializer(rows, many=True).data)

    @extend_schema(request=RoutingRuleInputSerializer, responses={201: RoutingRuleOutputSerializer})
    def post(self, request):
        try:
            rule = rule_settings.save_rule(actor=request.user, **_values(request))
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(RoutingRuleOutputSerializer(rule).data, status=201)


class RoutingRuleDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=RoutingRuleOutputSerializer)
    def get(self, request, pk: int):
        return Response(RoutingRuleOutputSerializer(get_object_or_404(RoutingRule, pk=pk)).data)

    @extend_schema(
        request=RoutingRuleInputSerializer,
        responses=RoutingRuleOutputSerializer,
        description="Change a rule; `is_active: false` disables it, `position` reorders it.",
    )
    def patch(self, request, pk: int):
        rule = get_object_or_404(RoutingRule, pk=pk)
        try:
            rule = rule_settings.save_rule(actor=request.user, rule=rule, **_values(request))
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(RoutingRuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        rule_settings.delete_rule(actor=request.user, rule=get_object_or_404(RoutingRule, pk=pk))
        return Response(status=204)


class RoutingRuleDraftPreviewApi(APIView):
    """Which of the 200 most recent conversations a rule with these fields would act on (the
    saved rule's dry run, for a draft); nothing is saved or changed."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(
        operation_id="v1_routing_rules_draft_preview",
        request=RoutingRuleInputSerializer,
        responses=RoutingRulePreviewSerializer,
    )
    def post(self, request):
        values = _values(request)
        values.setdefault("name", "preview")
        try:
            draft = rule_settings.clean(values)
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        found = rule_settings.preview(draft)
        return Response(
            {
                "examined": rule_settings.examined(),
                "would_match": [c.pk for c in found],
                "conversations": PreviewConversationSerializer(found, many=True).data,
            }
        )
