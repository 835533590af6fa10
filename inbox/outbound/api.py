"""Replies and notes through the REST API: POST /api/v1/conversations/{id}/messages/."""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors, services
from inbox.api import CanWrite, ConversationMessagesApi
from inbox.drafts import MAX_TEXT
from inbox.models import Message
from inbox.outbound import whatsapp_templates
from inbox.outbound.delivery import retry_failed
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
    """GET the thread; POST a reply (sent on the conversation's channel) or a private note, or
    `{"template": {"name", "language", "parameters"}}` instead of `text`: a WhatsApp template,
    which may go out after the 24-hour window closed (see GET .../templates/)."""

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
        # A WhatsApp template (inbox.outbound.whatsapp_templates); a body that is not an object
        # is the serializer's to refuse in words.
        if isinstance(request.data, dict) and "template" in request.data:
            return post_template(request, pk)
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


class TemplateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=15)
    parameters = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=4096),
        max_length=100,
        default=list,
        help_text="The values of the template's placeholders, in the order GET "
        "/api/v1/conversations/{id}/templates/ lists them.",
    )


class TemplateMessageInputSerializer(serializers.Serializer):
    template = TemplateInputSerializer()
    kind = serializers.ChoiceField(
        choices=[Message.Kind.MESSAGE],
        default=Message.Kind.MESSAGE,
        error_messages={"invalid_choice": "A template is a message to the customer, not a note."},
    )

    def validate(self, attrs):
        if self.initial_data.get("text"):
            raise serializers.ValidationError(
                {"text": "Send either text or a template, not both: the template is the text."}
            )
        return attrs


def post_template(request, pk) -> Response:
    data = TemplateMessageInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    asked = data.validated_data["template"]
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    refusal = whatsapp_templates.whatsapp_refusal(conversation)
    if refusal:
        raise ValidationError({"template": [refusal]})
    # Read before the service's transaction: the list may come from the Graph API.
    catalog = whatsapp_templates.catalog(conversation.channel)
    template = catalog.find(asked["name"], asked["language"])
    if template is None:
        raise ValidationError(
            {
                "template": [
                    whatsapp_templates.unknown_template(catalog, asked["name"], asked["language"])
                ]
            }
        )
    message = whatsapp_templates.send_template(
        conversation_id=conversation.pk,
        actor=request.user,
        template=template,
        parameters=asked["parameters"],
    )
    message = selectors.message_list_for_conversation(conversation=conversation).get(pk=message.pk)
    return Response(MessageOutputSerializer(message, context={"request": request}).data, status=201)


class TemplateOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
    header = serializers.CharField()
    body = serializers.CharField()
    footer = serializers.CharField()
    parameters = serializers.ListField(child=serializers.CharField())
    source = serializers.ChoiceField(choices=["config", "graph"])


class TemplateListOutputSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    window_open = serializers.BooleanField()
    window_closes_at = serializers.DateTimeField(allow_null=True)
    templates = TemplateOutputSerializer(many=True)
    unsupported = serializers.ListField(child=serializers.DictField())
    error = serializers.CharField(allow_blank=True)


class ConversationTemplatesApi(APIView):
    """The WhatsApp templates an agent may send on this conversation (the channel's config and
    its WhatsApp Business Account's approved ones, cached; ?refresh=1 reads Meta again), and
    whether the 24-hour window for free-form replies is open."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=TemplateListOutputSerializer)
    def get(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        refusal = whatsapp_templates.whatsapp_refusal(conversation)
        closes_at = whatsapp_templates.window_closes_at(conversation)
        answer = {
            "available": refusal is None,
            "reason": refusal or "",
            "window_open": closes_at is not None and closes_at > timezone.now(),
            "window_closes_at": closes_at,
            "templates": [],
            "unsupported": [],
            "error": "",
        }
        if refusal is None:
            catalog = whatsapp_templates.catalog(
                conversation.channel, refresh=request.query_params.get("refresh") == "1"
            )
            answer["templates"] = [t.as_dict() for t in catalog.templates]
            answer["unsupported"] = catalog.unsupported
            answer["error"] = catalog.error
        return Response(TemplateListOutputSerializer(answer).data)


class MessageRetryApi(APIView):
    """POST /api/v1/conversations/{id}/messages/{message_id}/retry/: send a failed reply again
    (queued, its attempts counted afresh). 404 if the conversation is not visible or the message
    is not in it; 409-style refusal in words unless the message is a reply that failed."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(request=None, responses=MessageOutputSerializer, operation_id="messages_retry")
    def post(self, request, pk, message_id):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        if not Message.objects.filter(pk=message_id, conversation=conversation).exists():
            raise Http404("No such message in this conversation.")
        message = retry_failed(message_id=message_id, actor=request.user)
        return Response(MessageOutputSerializer(message, context={"request": request}).data)
