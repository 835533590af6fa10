"""Triage writes that span apps (status and severity together, assignment, bulk actions)."""

import django_filters
from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import UserOutputSerializer
from accounts.models import Team
from accounts.permissions import can_bulk
from inbox import selectors
from inbox import services as inbox_services
from inbox.api import CanWrite, ConversationDetailApi, IsAdminRole
from inbox.filters import refuse_unknown_params
from inbox.models import AGENT_STATUSES, Severity, Status
from inbox.serializers import ConversationDetailSerializer, ConversationOutputSerializer
from routing import auto_assignment, rules, services
from routing.models import RoutingRule, SLAAlert
from tagging import api as tagging_api
from tagging import services as tagging_services

User = get_user_model()
SEVERITY_NAMES = [s.label for s in Severity]


class ConversationUpdateInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AGENT_STATUSES, required=False)
    severity = serializers.ChoiceField(choices=SEVERITY_NAMES, required=False)
    snoozed_until = serializers.DateTimeField(required=False)
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise ValidationError(
                {"detail": f"These fields cannot be changed here: {', '.join(unknown)}."}
            )
        if attrs.get("status") == Status.SNOOZED and not attrs.get("snoozed_until"):
            raise ValidationError({"snoozed_until": ["Snoozing needs snoozed_until."]})
        return attrs


class ConversationApi(ConversationDetailApi):
    """GET one conversation; PATCH its status (with snoozed_until for snoozed) and severity."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(
        responses=tagging_api.ConversationWithSuggestionsSerializer,
        operation_id="conversations_retrieve",
    )
    def get(self, request, pk):
        """One conversation, with the tags suggested for it (learned and rules')."""
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(tagging_api.conversation_with_suggestions(conversation, request))

    @extend_schema(
        request=ConversationUpdateInputSerializer,
        responses=ConversationDetailSerializer,
        operation_id="conversations_partial_update",
    )
    def patch(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        data = ConversationUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            if "severity" in values:
                tagging_services.set_severity(
                    conversation_id=conversation.pk,
                    actor=request.user,
                    severity=Severity.from_name(values["severity"]),
                    reason=values["reason"],
                )
            if "status" in values:
                inbox_services.set_status(
                    conversation_id=conversation.pk,
                    actor=request.user,
                    status=values["status"],
                    snoozed_until=values.get("snoozed_until"),
                    reason=values["reason"],
                )
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(ConversationDetailSerializer(conversation).data)


class AssignInputSerializer(serializers.Serializer):
    team = serializers.SlugField(required=False, allow_null=True)
    assignee = serializers.CharField(required=False, allow_null=True, max_length=150)
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


def resolve_assignment(data: dict, conversation=None) -> tuple[Team | None, User | None]:
    team = conversation.team if conversation is not None else None
    if data.get("team"):
        team = Team.objects.filter(slug=data["team"]).first()
        if team is None:
            raise ValidationError({"team": [f"Unknown team {data['team']!r}."]})
    elif "team" in data and data["team"] is None:
        team = None
    assignee = None
    if data.get("assignee"):
        assignee = User.objects.filter(username=data["assignee"], is_active=True).first()
        if assignee is None:
            raise ValidationError({"assignee": [f"Unknown user {data['assignee']!r}."]})
    return team, assignee


class ConversationAssignApi(APIView):
    """Give the conversation to a team and/or an agent; `"assignee": null` unassigns."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(request=AssignInputSerializer, responses=ConversationOutputSerializer)
    def post(self, request, pk):
        data = AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        team, assignee = resolve_assignment(data.validated_data, conversation)
        services.assign_conversation(
            conversation_id=conversation.pk,
            team=team,
            assignee=assignee,
            actor=request.user,
            reason=data.validated_data["reason"],
        )
        conversation = selectors.conversation_base_for(request.user).filter(pk=pk).first()
        if conversation is None:  # handed out of the actor's scope: say so plainly
            return Response({"detail": "Assigned; the conversation is no longer in your teams."})
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(ConversationOutputSerializer(conversation).data)


PICK_ONE = "Pick at least one conversation."


class BulkInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=10_000,
        error_messages={
            "required": PICK_ONE,
            "empty": PICK_ONE,
            "min_length": PICK_ONE,
            "max_length": "Pick at most {max_length} conversations at a time.",
        },
    )
    action = serializers.ChoiceField(choices=["assign", "tag", "untag", "status", "severity"])
    team = serializers.SlugField(required=False, allow_null=True)
    assignee = serializers.CharField(required=False, allow_null=True, max_length=150)
    spread = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    tags = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=50
    )
    status = serializers.ChoiceField(choices=AGENT_STATUSES, required=False)
    snoozed_until = serializers.DateTimeField(required=False)
    severity = serializers.ChoiceField(choices=SEVERITY_NAMES, required=False)

    def validate(self, attrs):
        needs = {"tag": "tags", "untag": "tags", "status": "status", "severity": "severity"}.get(
            attrs["action"]
        )
        if needs and not attrs.get(needs):
            what = {"tags": "a tag", "status": "a status", "severity": "a severity"}[needs]
            raise ValidationError({needs: [f"Pick {what} to {attrs['action']} the conversations."]})
        return attrs


class BulkOutputSerializer(serializers.Serializer):
    updated = serializers.ListField(child=serializers.IntegerField())
    unchanged = serializers.ListField(child=serializers.IntegerField())
    not_found = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids you cannot see."
    )
    queued = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Spread only: conversations no online agent had room for (capacity); they "
        "stay in the team's queue.",
    )


class DryRunOutputSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    would_match = serializers.ListField(child=serializers.IntegerField())


class BulkApi(APIView):
    """One action on many conversations (leads and admins). Ids the user cannot see are reported
    in `not_found` and left alone."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(request=BulkInputSerializer, responses=BulkOutputSerializer)
    def post(self, request):
        if not can_bulk(request.user):
            raise PermissionDenied("Bulk actions are for leads and admins.")
        data = BulkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        wanted = list(dict.fromkeys(v["ids"]))
        action = v["action"]
        if action == "assign":
            team, assignee = resolve_assignment(v)
            if team is None and assignee is not None:
                raise ValidationError({"team": ["Bulk assignment to an agent needs the team too."]})
            # The service locks only what the lead can see: scope and lock in one statement.
            result = services.bulk_assign(
                conversation_ids=wanted,
                team=team,
                assignee=assignee,
                actor=request.user,
                reason=v["reason"],
                spread=v["spread"],
            )
            updated, unchanged, not_found = result.updated, result.unchanged, result.not_found
            if v["spread"]:
                return Response(
                    {
                        "updated": updated,
                        "unchanged": unchanged,
                        "not_found": not_found,
                        "queued": result.queued,
                    }
                )
        else:
            visible = set(
                selectors.conversation_base_for(request.user)
                .filter(pk__in=wanted)
                .values_list("pk", flat=True)
            )
            ids = [pk for pk in wanted if pk in visible]
            not_found = [pk for pk in wanted if pk not in visible]
            result = services.bulk_change(
                conversation_ids=ids,
                action=action,
                actor=request.user,
                reason=v["reason"],
                tags=v.get("tags") or (),
                status=v.get("status"),
                snoozed_until=v.get("snoozed_until"),
                severity=v.get("severity"),
            )
            updated, unchanged = result.updated, result.unchanged
        return Response({"updated": updated, "unchanged": unchanged, "not_found": not_found})


class AvailabilityInputSerializer(serializers.Serializer):
    availability = serializers.ChoiceField(choices=User.Availability.choices)


class MeApi(APIView):
    """The current user; PATCH sets your own availability (online, away, offline)."""

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=AvailabilityInputSerializer, responses=UserOutputSerializer)
    def patch(self, request):
        data = AvailabilityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = auto_assignment.set_availability(
            user=request.user, availability=data.validated_data["availability"]
        )
        return Response(UserOutputSerializer(user).data)


class RoutingRuleDryRunApi(APIView):
    """Admins: which recent conversations a routing rule would act on. Changes nothing."""

    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(request=None, responses=DryRunOutputSerializer)
    def post(self, request, pk):
        rule = RoutingRule.objects.filter(pk=pk).first()
        if rule is None:
            raise NotFound("No such rule.")
        return Response({"rule": rule.pk, "would_match": rules.dry_run_rule(rule=rule)})


class SLAAlertOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SLAAlert
        fields = ["id", "conversation", "target", "kind", "due_at", "raised_at", "late"]


class SLAAlertFilter(django_filters.FilterSet):
    conversation = django_filters.NumberFilter(min_value=1, max_value=2**63 - 1)
    kind = django_filters.MultipleChoiceFilter(choices=SLAAlert.Kind.choices)
    target = django_filters.MultipleChoiceFilter(choices=SLAAlert.Target.choices)

    class Meta:
        model = SLAAlert
        fields = []


class SLAAlertListApi(APIView):
    """SLA warnings, breaches and reminders raised, newest first, for conversations you may see."""

    filterset_class = SLAAlertFilter

    @extend_schema(responses=SLAAlertOutputSerializer(many=True))
    def get(self, request):
        visible = selectors.conversation_base_for(request.user).values("pk")
        qs = SLAAlert.objects.filter(conversation_id__in=visible)
        refuse_unknown_params(request.query_params, SLAAlertFilter)
        filterset = SLAAlertFilter(request.query_params, queryset=qs)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        rows = filterset.qs.order_by("-raised_at", "-id")[:200]
        return Response(SLAAlertOutputSerializer(rows, many=True).data)

    def get_queryset(self):
        return SLAAlert.objects.none()
