"""Contacts across channels: one person's identities and conversations, and merging two."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors
from inbox.contacts import MergeRefused, merge_contacts
from inbox.models import Contact, ContactIdentity, Conversation
from inbox.screening import block_contact, unblock_contact


class IdentityOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactIdentity
        fields = ["kind", "external_id", "verified"]


class ContactConversationOutputSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    channel_kind = serializers.CharField(source="channel.kind", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "channel_kind",
            "subject",
            "status",
            "team",
            "assignee",
            "snippet",
            "created_at",
            "last_message_at",
        ]


class ContactDetailOutputSerializer(serializers.ModelSerializer):
    identities = IdentityOutputSerializer(many=True, read_only=True)
    conversations = ContactConversationOutputSerializer(
        source="visible_conversations", many=True, read_only=True
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "merged_into",
            "created_at",
            "blocked",
            "blocked_at",
            "spam",
            "identities",
            "conversations",
        ]

    blocked = serializers.SerializerMethodField()

    def get_blocked(self, contact) -> bool:
        return contact.blocked_at is not None


class ContactDetailApi(APIView):
    @extend_schema(responses=ContactDetailOutputSerializer, operation_id="contacts_retrieve")
    def get(self, request, pk):
        contact = selectors.contact_get_for_user(user=request.user, pk=pk)
        return Response(ContactDetailOutputSerializer(contact).data)


class ContactMergeApi(APIView):
    class InputSerializer(serializers.Serializer):
        into = serializers.IntegerField(help_text="The contact that remains.")

    @extend_schema(
        request=InputSerializer,
        responses=ContactDetailOutputSerializer,
        operation_id="contacts_merge",
    )
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = selectors.contact_get_for_user(user=request.user, pk=pk)
        target = selectors.contact_get_for_user(user=request.user, pk=data.validated_data["into"])
        try:
            merge_contacts(source_id=source.pk, target_id=target.pk, actor=request.user)
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        except MergeRefused as exc:
            raise ValidationError({"into": [str(exc)]}) from exc
        contact = selectors.contact_get_for_user(user=request.user, pk=target.pk)
        return Response(ContactDetailOutputSerializer(contact).data)


class ContactBlockApi(APIView):
    """POST blocks a contact, DELETE unblocks it (admins and leads; 403 for anyone else). A
    blocked contact's messages are stored but open nothing any view lists, and start no
    acknowledgement, SLA clock or assignment; they show on the contact's page."""

    def _apply(self, request, pk, service):
        contact = selectors.contact_get_for_user(user=request.user, pk=pk)
        try:
            service(contact_id=contact.pk, actor=request.user)
        except PermissionDenied as exc:
            raise ApiPermissionDenied(str(exc)) from exc
        contact = selectors.contact_get_for_user(user=request.user, pk=contact.pk)
        return Response(ContactDetailOutputSerializer(contact).data)

    @extend_schema(
        request=None, responses=ContactDetailOutputSerializer, operation_id="contacts_block"
    )
    def post(self, request, pk):
        return self._apply(request, pk, block_contact)

    # DELETE answers 200 with the contact (drf-spectacular assumes 204 for a bare serializer).
    @extend_schema(
        request=None,
        responses={200: ContactDetailOutputSerializer},
        operation_id="contacts_unblock",
    )
    def delete(self, request, pk):
        return self._apply(request, pk, unblock_contact)
