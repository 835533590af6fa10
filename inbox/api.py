from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors
from inbox.filters import ConversationFilter
from inbox.models import Channel
from inbox.pagination import KeysetPagination
from inbox.serializers import (
    ChannelOutputSerializer,
    ConversationOutputSerializer,
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
