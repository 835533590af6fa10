"""/api/v1/canned-responses/: the REST twin of Settings > Canned responses. Everyone lists what
they may use; any agent writes personal ones, team leads their team's, admins everyone's
(inbox.canned, the functions the page calls too). One not visible to the caller is a 404."""

import functools

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from inbox import canned as service
from inbox import scoped_api


class CannedOutputSerializer(scoped_api.ScopedFields, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    shortcut = serializers.CharField()
    text = serializers.CharField(help_text="As saved, with its {{variables}}.")
    scope = serializers.SerializerMethodField(help_text="personal, team or global")
    team = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()


class CannedInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    text = serializers.CharField(max_length=50000, trim_whitespace=False)
    shortcut = serializers.CharField(max_length=41, required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=service.SCOPES, default=service.PERSONAL)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )


def _save(request, *, canned=None):
    save = functools.partial(service.save_canned_response, canned=canned)
    fields = ("title", "text", "shortcut")
    return scoped_api.save(request, CannedInputSerializer, save, saved=canned, fields=fields)


class CannedListApi(APIView):
    @extend_schema(responses=CannedOutputSerializer(many=True))
    def get(self, request):
        canned = service.canned_list_for(user=request.user).order_by("title", "pk")
        return Response(
            CannedOutputSerializer(canned, many=True, context={"request": request}).data
        )

    @extend_schema(request=CannedInputSerializer, responses={201: CannedOutputSerializer})
    def post(self, request):
        """Personal by default; `scope` "team" (with `team`) for team leads and admins, "global"
        for admins. Unknown {{variables}} are refused, naming them."""
        canned = _save(request)
        return Response(
            CannedOutputSerializer(canned, context={"request": request}).data, status=201
        )


class CannedDetailApi(APIView):
    def _get(self, request, pk):
        return get_object_or_404(service.canned_list_for(user=request.user), pk=pk)

    @extend_schema(responses=CannedOutputSerializer)
    def get(self, request, pk):
        canned = self._get(request, pk)
        return Response(CannedOutputSerializer(canned, context={"request": request}).data)

    @extend_schema(request=CannedInputSerializer, responses=CannedOutputSerializer)
    def patch(self, request, pk):
        canned = _save(request, canned=self._get(request, pk))
        return Response(CannedOutputSerializer(canned, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        canned = self._get(request, pk)
        with scoped_api.refusals():
            service.delete_canned_response(actor=request.user, canned=canned)
        return Response(status=204)


class CannedPreviewApi(APIView):
    @extend_schema(
        request=inline_serializer(
            "CannedPreviewInput",
            fields={"text": serializers.CharField(max_length=50000, trim_whitespace=False)},
        ),
        responses=inline_serializer("CannedPreview", fields={"text": serializers.CharField()}),
    )
    def post(self, request):
        """`text` with its variables filled in for a sample customer and you."""
        text = request.data.get("text") if isinstance(request.data, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ValidationError({"text": [_("Write the text to preview.")]})
        return Response({"text": service.preview(user=request.user, text=text[:50000])})
