"""/api/v1/channels/{id}/after-hours/: the REST twin of the after-hours panel on a channel's
settings page (admins); both call routing.after_hours.set_after_hours."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox.api import IsAdminRole
from inbox.models import Channel
from routing import after_hours


class AfterHoursSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    text = serializers.CharField(
        max_length=after_hours.MAX_TEXT,
        allow_blank=True,
        required=False,
        default="",
        help_text="Sent with a line saying when the team is back, in the customer's language.",
    )


def _current(channel: Channel) -> dict:
    options = (channel.config or {}).get("after_hours") or {}
    return {"enabled": bool(options.get("enabled")), "text": str(options.get("text") or "")}


class ChannelAfterHoursApi(APIView):
    permission_classes = [IsAdminRole]

    @extend_schema(responses=AfterHoursSerializer)
    def get(self, request, pk):
        return Response(_current(get_object_or_404(Channel, pk=pk)))

    @extend_schema(request=AfterHoursSerializer, responses=AfterHoursSerializer)
    def put(self, request, pk):
        """Switch the after-hours reply on (with its `text`) or off."""
        channel = get_object_or_404(Channel, pk=pk)
        data = AfterHoursSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            channel = after_hours.set_after_hours(
                actor=request.user, channel=channel, **data.validated_data
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(_current(channel))
