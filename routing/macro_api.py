"""/api/v1/macros/: the REST twin of Settings > Macros, plus running one on a conversation or a
selection. Scoped like canned responses: everyone lists what they may use; any agent writes
personal ones, team leads their team's, admins everyone's (routing.macros, the functions the
pages call too). A macro or conversation not visible to the caller is a 404."""

import functools

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from accounts.permissions import can_bulk, can_write
from inbox import scoped_api, selectors
from routing import macros as service


class ActionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(service.KINDS))
    value = serializers.JSONField(
        help_text="add_tags: [tag slugs]; set_severity: low|normal|high|critical; assign_team: "
        'team slug; assign_agent: username or "me"; set_status: open|pending|resolved|spam; '
        "send_canned: canned response id; add_note: text."
    )


class MacroOutputSerializer(scoped_api.ScopedFields, serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    actions = ActionSerializer(many=True)
    scope = serializers.SerializerMethodField(help_text="personal, team or global")
    team = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()


class MacroInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    actions = serializers.JSONField(help_text="A list of {kind, value}; see MacroAction.")
    scope = serializers.ChoiceField(choices=service.SCOPES, default=service.PERSONAL)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )


def _save(request, *, macro=None):
    save = functools.partial(service.save_macro, macro=macro)
    fields = ("name", "actions")
    return scoped_api.save(request, MacroInputSerializer, save, saved=macro, fields=fields)


def _out(request, macro):
    return MacroOutputSerializer(macro, context={"request": request}).data


class MacroListApi(APIView):
    @extend_schema(responses=MacroOutputSerializer(many=True))
    def get(self, request):
        macros = service.macros_for(user=request.user).order_by("name", "pk")
        return Response(MacroOutputSerializer(macros, many=True, context={"request": request}).data)

    @extend_schema(request=MacroInputSerializer, responses={201: MacroOutputSerializer})
    def post(self, request):
        """Personal by default; `scope` "team" (with `team`) for team leads and admins, "global"
        for admins. A bad action is refused naming it, like `actions[1].value`."""
        return Response(_out(request, _save(request)), status=201)


class MacroDetailApi(APIView):
    def _get(self, request, pk):
        return get_object_or_404(service.macros_for(user=request.user), pk=pk)

    @extend_schema(responses=MacroOutputSerializer)
    def get(self, request, pk):
        return Response(_out(request, self._get(request, pk)))

    @extend_schema(request=MacroInputSerializer, responses=MacroOutputSerializer)
    def patch(self, request, pk):
        return Response(_out(request, _save(request, macro=self._get(request, pk))))

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        macro = self._get(request, pk)
        with scoped_api.refusals():
            service.delete_macro(actor=request.user, macro=macro)
        return Response(status=204)


RunOutput = inline_serializer(
    "MacroRun",
    fields={"changes": serializers.ListField(child=serializers.DictField())},
)


class MacroRunApi(APIView):
    @extend_schema(request=None, responses={200: RunOutput})
    def post(self, request, pk, macro_id):
        """Run the macro on this conversation, all or nothing: a refused step is a 400 whose
        `detail` names the step and why, and nothing of the run stays."""
        if not can_write(request.user):
            raise PermissionDenied(_("Viewers cannot run macros."))
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        macro = get_object_or_404(service.macros_for(user=request.user), pk=macro_id)
        changes = service.run_macro(
            macro=macro, conversation_id=conversation.pk, actor=request.user
        )
        return Response({"changes": changes})


class MacroBulkRunApi(APIView):
    @extend_schema(
        request=inline_serializer(
            "MacroBulkRunInput",
            fields={"ids": serializers.ListField(child=serializers.IntegerField(), max_length=500)},
        ),
        responses=inline_serializer(
            "MacroBulkRun",
            fields={
                "done": serializers.ListField(child=serializers.IntegerField()),
                "refused": serializers.DictField(child=serializers.CharField()),
                "not_found": serializers.ListField(child=serializers.IntegerField()),
            },
        ),
    )
    def post(self, request, macro_id):
        """Run the macro on each of `ids` (leads and admins, like the bulk bar); each
        conversation is its own all-or-nothing run, and `refused` says why per conversation."""
        if not can_bulk(request.user):
            raise PermissionDenied(_("Bulk actions are for leads and admins."))
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        if (
            not isinstance(ids, list)
            or not ids
            or len(ids) > 500
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            raise ValidationError({"ids": [_("Give a list of 1 to 500 conversation ids.")]})
        macro = get_object_or_404(service.macros_for(user=request.user), pk=macro_id)
        result = service.run_macro_many(macro=macro, conversation_ids=ids, actor=request.user)
        return Response(
            {
                "done": result.done,
                "refused": {str(k): v for k, v in result.refused.items()},
                "not_found": result.not_found,
            }
        )
