import csv
import json

import django_filters
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Length
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.models import Team
from accounts.permissions import can_administer, can_write
from inbox import attachments, selectors, services
from inbox.filters import ConversationFilter, refuse_unknown_params
from inbox.models import Activity, InboundEvent, SavedView, Severity
from inbox.pagination import KeysetPagination
from inbox.serializers import (
    CONVERSATION_LIST_VALUES,
    ConversationDetailSerializer,
    ConversationOutputSerializer,
    InboundEventOutputSerializer,
    MessageOutputSerializer,
    conversation_list_data,
    list_lookups,
)

LIST_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque cursor from `next`."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 100},
        description="1 to 100; default 25.",
    ),
]


class ConversationListApi(APIView):
    filterset_class = ConversationFilter  # documents the filters in the schema

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=inline_serializer(
            "ConversationPage",
            {
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": ConversationOutputSerializer(many=True),
            },
        ),
        operation_id="conversations_list",
    )
    def get(self, request):
        refuse_unknown_params(request.query_params, ConversationFilter)
        qs, ordering = selectors.conversation_list_for_agent(
            user=request.user, params=request.query_params, request=request, related=False
        )
        paginator = KeysetPagination()
        in_query = selectors.tag_slugs_in_query()
        rows = paginator.paginate(
            qs,
            request,
            ordering,
            values=CONVERSATION_LIST_VALUES,
            annotate={**list_lookups(), **in_query},
        )
        if in_query:
            tags = {row["id"]: row["tag_slugs"] for row in rows}
        else:
            tags = selectors.tag_slugs_by_conversation([row["id"] for row in rows]) if rows else {}
        return paginator.get_paginated_response(conversation_list_data(rows, tags))

    def get_queryset(self):  # used by drf-spectacular to describe filters
        return selectors.conversation_base_for(self.request.user)


class ConversationDetailApi(APIView):
    @extend_schema(responses=ConversationDetailSerializer, operation_id="conversations_retrieve")
    def get(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(
            ConversationDetailSerializer(conversation, context={"request": request}).data
        )


class ConversationMessagesApi(APIView):
    @extend_schema(
        responses=MessageOutputSerializer(many=True), operation_id="conversations_messages_list"
    )
    def get(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        messages = selectors.message_list_for_conversation(conversation=conversation)
        return Response(
            MessageOutputSerializer(messages, many=True, context={"request": request}).data
        )


class IsAdminRole(BasePermission):
    message = "Only admins may do this."
    token_scope = "admin"  # API tokens need the admin scope here (accounts/authentication.py)

    def has_permission(self, request, view):
        return can_administer(request.user)


class AdminScopeForWrites(BasePermission):
    """Lets the view decide who may write; an API token writes here only with the admin scope."""

    token_scope_writes = "admin"  # accounts/authentication.py

    def has_permission(self, request, view):
        return True


class InboundEventFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InboundEvent.Status.choices)
    provider = django_filters.CharFilter()
    channel = django_filters.CharFilter(field_name="channel__slug")

    class Meta:
        model = InboundEvent
        fields = []


class InboundEventListApi(APIView):
    """Raw inbound requests, newest first; `?status=failed` lists what could not be processed."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    filterset_class = InboundEventFilter

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=inline_serializer(
            "InboundEventPage",
            {
                "next": serializers.CharField(allow_null=True),
                "results": InboundEventOutputSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        qs = (
            InboundEvent.objects.select_related("channel")
            .defer("body")
            .annotate(body_size=Length("body"))
            .order_by("-received_at", "-id")
        )
        refuse_unknown_params(request.query_params, InboundEventFilter)
        filterset = InboundEventFilter(request.query_params, queryset=qs)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        try:
            size = min(max(int(request.query_params.get("page_size", 50)), 1), 200)
        except ValueError as exc:
            raise ValidationError({"page_size": ["A whole number."]}) from exc
        try:
            before = int(request.query_params.get("before", 0))
        except ValueError as exc:
            raise ValidationError({"before": ["An event id."]}) from exc
        rows = filterset.qs
        if before:
            rows = rows.filter(pk__lt=before)
        page = list(rows.order_by("-id")[: size + 1])
        next_link = None
        if len(page) > size:
            page = page[:size]
            next_link = replace_query_param(request.build_absolute_uri(), "before", page[-1].pk)
        data = InboundEventOutputSerializer(page, many=True).data
        return Response({"next": next_link, "results": data})

    def get_queryset(self):
        return InboundEvent.objects.none()


class CanWrite(BasePermission):
    message = "Your role is read-only."

    def has_permission(self, request, view):
        return request.method in ("GET", "HEAD", "OPTIONS") or can_write(request.user)


class ActivityOutputSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "actor", "verb", "from_value", "to_value", "reason", "created_at"]


class ConversationActivityApi(APIView):
    """The audit trail, oldest first: who changed what, when, from what to what. `actor` is null
    for changes the system made (rules, sweeps, auto-assignment)."""

    @extend_schema(responses=ActivityOutputSerializer(many=True))
    def get(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        rows = (
            Activity.objects.filter(conversation=conversation)
            .select_related("actor")
            .order_by("created_at", "id")
        )
        return Response(ActivityOutputSerializer(rows, many=True).data)


EXPORT_COLUMNS = [
    "id",
    "created_at",
    "status",
    "severity",
    "channel",
    "team",
    "assignee",
    "contact_name",
    "contact_email",
    "contact_phone",
    "subject",
    "tags",
    "first_response_at",
    "resolved_at",
    "sla_breached",
    "message_count",
    "snippet",
]


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ (or a tab or CR) runs as a formula in spreadsheet programs.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _export_line(c) -> list:
    return [
        c.pk,
        c.created_at.isoformat(),
        c.status,
        Severity(c.severity).label,
        c.channel.slug,
        getattr(c.team, "slug", ""),
        getattr(c.assignee, "username", ""),
        c.contact.name,
        c.contact.email,
        c.contact.phone,
        c.subject,
        " ".join(sorted(t.slug for t in c.tags.all())),
        c.first_response_at.isoformat() if c.first_response_at else "",
        c.resolved_at.isoformat() if c.resolved_at else "",
        c.sla_breached,
        c.message_count,
        c.snippet,
    ]


EXPORT_CHUNK = 1000


def export_rows(qs, ordering_key: str):
    """Yield CSV lines a keyset page at a time, so memory stays flat however many rows match."""
    from inbox.orderings import ORDERINGS
    from inbox.pagination import after

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    ordering = ORDERINGS[ordering_key]
    ordered = qs.order_by(*ordering.order_by())
    page = ordered
    while True:
        chunk = list(page[:EXPORT_CHUNK])
        for conversation in chunk:
            yield writer.writerow([_csv_cell(v) for v in _export_line(conversation)])
        if len(chunk) < EXPORT_CHUNK:
            return
        last = chunk[-1]
        page = ordered.filter(after(ordering, getattr(last, ordering.field), last.pk))


class ConversationExportApi(APIView):
    """The filtered list as CSV, streamed. Same filters and scope as the list."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        refuse_unknown_params(request.query_params, ConversationFilter)
        qs, ordering = selectors.conversation_list_for_agent(
            user=request.user, params=request.query_params, request=request
        )
        response = StreamingHttpResponse(
            export_rows(qs, ordering), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="conversations-{stamp}.csv"'
        return response

    def get_queryset(self):
        return selectors.conversation_base_for(self.request.user)


COUNT_CAP = 1000


class SavedViewSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    count = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "filters", "team", "owner", "position", "count"]

    def get_count(self, obj) -> int | None:
        return self.context.get("counts", {}).get(obj.pk)

    def validate_filters(self, value):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise serializers.ValidationError(
                'An object of list filters, e.g. {"tag": ["incident"]}.'
            )
        params = QueryDict(mutable=True)
        for key, raw in value.items():
            for item in raw if isinstance(raw, list) else [raw]:
                if not isinstance(item, str | int | bool):
                    raise serializers.ValidationError(f"{key}: give strings.")
                params.appendlist(key, str(item).lower() if isinstance(item, bool) else str(item))
        unknown = set(params) - set(ConversationFilter.base_filters)
        if unknown:
            raise serializers.ValidationError(f"Unknown filters: {', '.join(sorted(unknown))}.")
        filterset = ConversationFilter(
            params, queryset=selectors.conversation_base_for(self.context["request"].user)
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return {k: params.getlist(k) for k in params}

    def validate_team(self, team):
        user = self.context["request"].user
        if team is not None and not (
            user.is_admin_role or user.memberships.filter(team=team).exists()
        ):
            raise serializers.ValidationError("You can share views only with your own teams.")
        return team


def view_count(user, view: SavedView, request) -> int | None:
    return view_counts(user, [view], request)[view.pk]


def view_counts(user, views, request) -> dict[int, int | None]:
    """Each view's live count, all in one query: one scalar subquery per view, each capped on
    its own, since a sidebar needs "999+", not an exact count over millions of rows. A view
    whose filters no longer validate (a tag was deleted) counts None."""
    counts: dict[int, int | None] = {}
    parts, args = [], []
    for view in views:
        params = QueryDict(mutable=True)
        for key, values in view.filters.items():
            params.setlist(key, values)
        try:
            qs, _ = selectors.conversation_list_for_agent(user=user, params=params, request=request)
        except ValidationError:
            counts[view.pk] = None
            continue
        sql, sql_args = qs.order_by().values("pk")[:COUNT_CAP].query.sql_with_params()
        # The SQL is what Django compiled for the queryset; the values stay parameters.
        parts.append((view.pk, f"(SELECT count(*) FROM ({sql}) AS view_{len(parts)})"))  # noqa: S608
        args.extend(sql_args)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(p for _, p in parts), args)
            row = cursor.fetchone()
        counts.update({pk: value for (pk, _), value in zip(parts, row, strict=True)})
    return counts


class SavedViewListApi(APIView):
    """Your views and those shared with your teams, each with its live count (capped at 1000)."""

    permission_classes = [IsAuthenticated]

    def visible(self, user):
        return SavedView.objects.filter(
            Q(owner=user) | Q(team__in=user.memberships.values("team_id"))
        ).select_related("team", "owner")

    @extend_schema(responses=SavedViewSerializer(many=True))
    def get(self, request):
        views = list(self.visible(request.user))
        counts = view_counts(request.user, views, request)
        return Response(
            SavedViewSerializer(
                views, many=True, context={"counts": counts, "request": request}
            ).data
        )

    @extend_schema(request=SavedViewSerializer, responses={201: SavedViewSerializer})
    def post(self, request):
        data = SavedViewSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        view = services.create_saved_view(
            owner=request.user, **{"filters": {}, **data.validated_data}
        )
        counts = {view.pk: view_count(request.user, view, request)}
        return Response(
            SavedViewSerializer(view, context={"counts": counts, "request": request}).data,
            status=201,
        )


class SavedViewDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        view = (
            SavedView.objects.filter(pk=pk)
            .filter(Q(owner=request.user) | Q(team__in=request.user.memberships.values("team_id")))
            .first()
        )
        if view is None:
            raise NotFound("No such view.")
        services.delete_saved_view(view=view, actor=request.user)
        return Response(status=204)


class MessageOriginalApi(APIView):
    """Admins only: the original raw mail of an inbound email message, as received. Anyone
    else gets a 404, as for anything they may not see."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "message/rfc822"): bytes})
    def get(self, request, pk):
        if not can_administer(request.user):
            raise Http404("No original mail for this message.")
        raw = selectors.message_original_get(pk=pk)
        response = HttpResponse(raw, content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="message-{pk}.eml"'
        return response


class AnyMediaRenderer(BaseRenderer):
    """Lets a client that asks for the file's own type (Accept: image/png, */*) through content
    negotiation; a JSON error answered to it is rendered as JSON."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else json.dumps(data).encode()


class AttachmentDownloadApi(APIView):
    """The file of an attachment, for an API token (Authorization: Token ...) or a session: the
    `url` of every attachment in the API. Who cannot see the conversation gets a 404."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        attachment = selectors.attachment_get_for_user(user=request.user, pk=pk)
        return attachments.download_response(attachment)

    def finalize_response(self, request, response, *args, **kwargs):
        # The file is a plain download; anything DRF renders here (a 404, a 403) is JSON,
        # whatever `?format=` or Accept asked for.
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
