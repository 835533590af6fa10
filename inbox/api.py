import django_filters
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.permissions import can_administer
from inbox import selectors
from inbox.filters import ConversationFilter
from inbox.models import Channel, InboundEvent
from inbox.pagination import KeysetPagination
from inbox.serializers import (
    ChannelOutputSerializer,
    ConversationOutputSerializer,
    InboundEventOutputSerializer,
    MessageOutputSerializer,
)

LIST_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque cursor from `next`."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 100; default 25."),
]


class ConversationListApi(APIView):
    filterset_class = ConversationFilter  # documents the filters in the schema

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=ConversationOutputSerializer(many=True),
        operation_id="conversations_list",
    )
    def get(self, request):
        qs, ordering = selectors.conversation_list_for_agent(
            user=request.user, params=request.query_params, request=request
        )
        paginator = KeysetPagination()
        page = paginator.paginate(qs, request, ordering)
        data = ConversationOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    def get_queryset(self):  # used by drf-spectacular to describe filters
        return selectors.conversation_base_for(self.request.user)


class ConversationDetailApi(APIView):
    @extend_schema(responses=ConversationOutputSerializer, operation_id="conversations_retrieve")
    def get(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(
            ConversationOutputSerializer(conversation, context={"request": request}).data
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


class ChannelListApi(APIView):
    @extend_schema(responses=ChannelOutputSerializer(many=True))
    def get(self, request):
        channels = Channel.objects.select_related("default_team").order_by("name")
        return Response(ChannelOutputSerializer(channels, many=True).data)


class IsAdminRole(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request, view):
        return can_administer(request.user)


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

    @extend_schema(parameters=LIST_PARAMETERS, responses=InboundEventOutputSerializer(many=True))
    def get(self, request):
        qs = (
            InboundEvent.objects.select_related("channel")
            .defer("body")
            .order_by("-received_at", "-id")
        )
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
