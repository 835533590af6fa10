"""Replies and notes through the REST API: POST /api/v1/conversations/{id}/messages/."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from inbox import selectors, services
from inbox.api import CanWrite, ConversationMessagesApi
from inbox.drafts import MAX_TEXT
from inbox.models import Message
from inbox.outbound.files import FileRefused, outgoing_files
from inbox.outbound.replies import send_reply
from inbox.serializers import (
    MessageOutputSerializer,
)


class MessageInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=MAX_TEXT,
        allow_blank=False,
        trim_whitespace=True,
        error_messages={
            "max_length": "The text is longer than {max_length} characters; shorten it and "
            "send again: nothing was cut."
        },
    )
    kind = serializers.ChoiceField(choices=Message.Kind.choices, default=Message.Kind.MESSAGE)
    cc = serializers.ListField(
        child=serializers.CharField(max_length=320),
        required=False,
        max_length=20,
        help_text="Email channels only: extra recipients.",
    )
    subject = serializers.CharField(
        required=False, max_length=998, help_text="Email channels only."
    )


class MessageMultipartSerializer(MessageInputSerializer):
    """The same fields as multipart/form-data, with files; the text may then be empty."""

    text = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True, trim_whitespace=True, default=""
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False, use_url=False),
        required=False,
        default=list,
        max_length=20,
        help_text="Files sent with a reply, within the channel's limits (docs/channels.md).",
    )


class ConversationMessagesCreateApi(ConversationMessagesApi):
    """GET the thread; POST a reply (sent on the conversation's channel) or a private note."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(
        request={
            "application/json": MessageInputSerializer,
            "multipart/form-data": MessageMultipartSerializer,
        },
        responses={201: MessageOutputSerializer},
        operation_id="conversations_messages_create",
    )
    def post(self, request, pk):
        multipart = request.content_type.startswith("multipart/form-data")
        serializer = MessageMultipartSerializer if multipart else MessageInputSerializer
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        files = outgoing_files(data.validated_data.get("files") or [])
        if data.validated_data["kind"] == Message.Kind.NOTE:
            if files:
                return Response(
                    {"detail": _("Files go with replies; a private note cannot carry them.")},
                    status=400,
                )
            message = services.add_note(
                conversation_id=conversation.pk,
                actor=request.user,
                text=data.validated_data["text"],
            )
        else:
            try:
                message = send_reply(
                    conversation_id=conversation.pk,
                    actor=request.user,
                    text=data.validated_data["text"],
                    files=files,
                )
            except FileRefused as exc:  # nothing stored, nothing sent
                return Response(exc.as_json(), status=400)
        message = selectors.message_list_for_conversation(conversation=conversation).get(
            pk=message.pk
        )
        return Response(
            MessageOutputSerializer(message, context={"request": request}).data, status=201
        )
