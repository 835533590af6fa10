"""/api/v1/canned-responses/: the REST twin of Settings > Canned responses. Everyone lists what
they may use; any agent writes personal ones, team leads their team's, admins everyone's
(inbox.canned, the functions the page calls too). One not visible to the caller is a 404."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from inbox import canned as service


class CannedOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    shortcut = serializers.CharField()
    text = serializers.CharField(help_text="As saved, with its {{variables}}.")
    scope = serializers.SerializerMethodField(help_text="personal, team or global")
    team = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()

    def get_scope(self, obj) -> str:
        return service.scope_of(obj)

    def get_team(self, obj) -> str | None:
        return obj.team.slug if obj.team_id else None

    def get_owner(self, obj) -> str | None:
        return obj.owner.get_username() if obj.owner_id else None

    def get_can_edit(self, obj) -> bool:
        user = self.context["request"].user
        if "led" not in self.context:  # once per list, not per row
            self.context["led"] = service.led_team_ids(user)
        return service.may_manage(
            user,
            scope=service.scope_of(obj),
            team=obj.team,
            owner=obj.owner,
            led=self.context["led"],
        )


class CannedInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    text = serializers.CharField(max_length=50000, trim_whitespace=False)
    shortcut = serializers.CharField(max_length=41, required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=service.SCOPES, default=service.PERSONAL)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )


def _save(request, *, canned=None, partial=False):
    data = CannedInputSerializer(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    given = data.validated_data
    if canned is not None:  # a partial change keeps what it does not name
        current = {
            "title": canned.title,
            "text": canned.text,
            "shortcut": canned.shortcut,
            "scope": service.scope_of(canned),
            "team": canned.team,
        }
        given = {**current, **{k: v for k, v in given.items() if k in request.data}}
    try:
        return service.save_canned_response(actor=request.user, canned=canned, **given)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from exc


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
        canned = _save(request, canned=self._get(request, pk), partial=True)
        return Response(CannedOutputSerializer(canned, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        canned = self._get(request, pk)
        try:
            service.delete_canned_response(actor=request.user, canned=canned)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
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
