"""/api/v1/classification-rules/: the REST twin of Settings > Rules for classification rules,
through tagging.rule_settings (the functions the page calls). Admins only."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import IsAdminRole, refused
from inbox.models import Severity
from tagging import rule_settings
from tagging.models import ClassificationRule


class ClassificationRuleOutputSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    severity = serializers.SerializerMethodField()

    class Meta:
        model = ClassificationRule
        fields = [
            "id",
            "name",
            "position",
            "is_active",
            "mode",
            "keywords",
            "regex",
            "sender_domains",
            "channel_kinds",
            "tags",
            "severity",
        ]

    def get_severity(self, obj) -> str | None:
        return Severity(obj.severity).label if obj.severity else None


class ClassificationRuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    mode = serializers.CharField(required=False, help_text="apply or suggest")
    keywords = serializers.JSONField(required=False, help_text="Any of these words or phrases.")
    regex = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    sender_domains = serializers.JSONField(required=False)
    channel_kinds = serializers.JSONField(
        required=False, help_text="email, chat, meta, telegram, twilio, x, api"
    )
    tags = serializers.JSONField(required=False, help_text="Tag slugs to add (or suggest).")
    severity = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="low, normal, high, critical"
    )
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


def _values(request) -> dict:
    data = ClassificationRuleInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _rows():
    return ClassificationRule.objects.prefetch_related("tags").order_by("position", "id")


class ClassificationRuleListApi(APIView):
    """Classification rules in order; POST adds one at the end (unless `position`)."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=ClassificationRuleOutputSerializer(many=True))
    def get(self, request):
        return Response(ClassificationRuleOutputSerializer(_rows(), many=True).data)

    @extend_schema(
        request=ClassificationRuleInputSerializer,
        responses={201: ClassificationRuleOutputSerializer},
    )
    def post(self, request):
        try:
            rule = rule_settings.save_rule(actor=request.user, **_values(request))
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(ClassificationRuleOutputSerializer(rule).data, status=201)


class ClassificationRuleDetailApi(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=ClassificationRuleOutputSerializer)
    def get(self, request, pk: int):
        return Response(ClassificationRuleOutputSerializer(get_object_or_404(_rows(), pk=pk)).data)

    @extend_schema(
        request=ClassificationRuleInputSerializer, responses=ClassificationRuleOutputSerializer
    )
    def patch(self, request, pk: int):
        rule = get_object_or_404(ClassificationRule, pk=pk)
        try:
            rule = rule_settings.save_rule(actor=request.user, rule=rule, **_values(request))
        except DjangoValidationError as exc:
            raise refused(exc) from exc
        return Response(ClassificationRuleOutputSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        rule = get_object_or_404(ClassificationRule, pk=pk)
        rule_settings.delete_rule(actor=request.user, rule=rule)
        return Response(status=204)
