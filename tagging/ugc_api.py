"""The UGC library over REST (tagging.ugc): the items with their permission state and media,
filterable by channel, creation time and permission; asking and recording permission."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_write
from inbox import api as inbox_api
from inbox import selectors
from inbox.api import CanWrite
from inbox.filters import REVERSED_RANGE
from inbox.pagination import KeysetPagination
from tagging import ugc
from tagging.models import UgcItem


class UgcFilterSerializer(serializers.Serializer):
    channel = serializers.SlugField(required=False, help_text="A channel's slug.")
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    permission = serializers.ChoiceField(choices=UgcItem.Permission.choices, required=False)
    cursor = serializers.CharField(required=False, help_text="From the previous page's `next`.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {"detail": f"Unknown parameters: {', '.join(unknown)}."}
            )
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after is not None and before is not None and before <= after:
            raise serializers.ValidationError({"created_before": [REVERSED_RANGE]})
        return attrs

    def filters(self) -> dict:
        keys = ("channel", "created_after", "created_before", "permission")
        return {k: v for k, v in self.validated_data.items() if k in keys}


class UgcMediumSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="attachment.pk")
    name = serializers.CharField(source="attachment.name")
    content_type = serializers.CharField(source="attachment.content_type")
    size = serializers.IntegerField(source="attachment.size")
    is_image = serializers.BooleanField()
    thumbnail_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="The full-size file; null until the customer granted permission."
    )

    def get_thumbnail_url(self, medium) -> str | None:
        if not medium.is_image:
            return None
        return reverse("ui:ugc-thumbnail", args=[medium.attachment.pk])

    def get_download_url(self, medium) -> str | None:
        if not self.context.get("granted", {}).get(medium.attachment.message.conversation_id):
            return None
        return reverse("ui:ugc-download", args=[medium.attachment.pk])


class UgcItemOutputSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(source="pk")
    subject = serializers.CharField()
    channel = serializers.SlugField(source="channel.slug")
    contact = serializers.CharField(source="contact.name")
    created_at = serializers.DateTimeField()
    permission = serializers.ChoiceField(
        source="ugc.permission", choices=UgcItem.Permission.choices
    )
    asked_at = serializers.DateTimeField(source="ugc.asked_at", allow_null=True)
    asked_by = serializers.CharField(source="ugc.asked_by.username", allow_null=True)
    decided_at = serializers.DateTimeField(source="ugc.decided_at", allow_null=True)
    decided_by = serializers.CharField(
        source="ugc.decided_by.username",
        allow_null=True,
        help_text="Null when nobody decided yet, or the customer's own reply was read as the answer.",
    )
    media = UgcMediumSerializer(many=True, help_text="The customer's files, newest first.")


def _page_data(conversations, request) -> list:
    granted = {c.pk: c.ugc.permission == UgcItem.Permission.GRANTED for c in conversations}
    return UgcItemOutputSerializer(
        conversations, many=True, context={"request": request, "granted": granted}
    ).data


class UgcListApi(APIView):
    """The UGC library: `ugc`-tagged conversations the user sees, newest first, with their
    customer's media and whether the customer granted reuse (tagging.ugc)."""

    @extend_schema(
        parameters=[UgcFilterSerializer],
        responses=inline_serializer(
            "UgcPage",
            {
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": UgcItemOutputSerializer(many=True),
            },
        ),
    )
    def get(self, request):
        params = UgcFilterSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        qs = ugc.ugc_conversations_for(user=request.user, **params.filters()).select_related(
            "channel", "contact"
        )
        paginator = KeysetPagination()
        rows = ugc.attach_items(paginator.paginate(qs, request, "-created_at"))
        return paginator.get_paginated_response(_page_data(rows, request))


def _item_data(request, pk: int):
    conversation = ugc.attach_items([ugc.ugc_conversation_get(user=request.user, pk=pk)])
    return Response(_page_data(conversation, request)[0])


class UgcAskApi(APIView):
    """Ask the customer for permission, once: a reply from the template on the conversation's
    own channel; the item is then `asked`."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(request=None, responses=UgcItemOutputSerializer)
    def post(self, request, pk):
        ugc.ask_permission(user=request.user, conversation_id=pk)
        return _item_data(request, pk)


class UgcPermissionInputSerializer(serializers.Serializer):
    permission = serializers.ChoiceField(choices=UgcItem.Permission.choices)


class UgcPermissionApi(APIView):
    """Record the customer's answer (or set the state back); who and when are kept."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(request=UgcPermissionInputSerializer, responses=UgcItemOutputSerializer)
    def post(self, request, pk):
        data = UgcPermissionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ugc.set_permission(
            user=request.user, conversation_id=pk, permission=data.validated_data["permission"]
        )
        return _item_data(request, pk)


class AttachmentDownloadApi(inbox_api.AttachmentDownloadApi):
    """GET /api/v1/attachments/{id}/download/ (inbox.api), with the UGC library's rule: a
    read-only role (marketing's viewers) gets a file of a `ugc` conversation in full only once
    its customer granted reuse, as on the conversation page; agents get it for their work."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        attachment = selectors.attachment_get_for_user(user=request.user, pk=pk)
        if not can_write(request.user) and ugc.withheld(attachment):
            raise PermissionDenied(
                _(
                    "This file is in the UGC library and its customer has not granted "
                    "permission: only the thumbnail is shown there until they do."
                )
            )
        return super().get(request, pk)
