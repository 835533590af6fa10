"""Personal API tokens: the API to create (key shown once), list and revoke your own, and the
rule that a user's tokens die when they are deactivated or change their password."""

from django.db.models.signals import pre_save
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import ApiToken, User


def revoke_tokens_on_credential_change(sender, instance, raw=False, **kwargs):
    """pre_save on User: a new password or a deactivation revokes every token of the user, in the
    same transaction as the save, whatever path saved it (admin, API, shell)."""
    if raw or instance.pk is None:
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    if before["password"] != instance.password or (before["is_active"] and not instance.is_active):
        services.revoke_all_api_tokens(user=instance)


def connect() -> None:
    pre_save.connect(
        revoke_tokens_on_credential_change, sender=User, dispatch_uid="revoke-tokens-on-change"
    )


class TokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    scopes = serializers.ListField(  # a list, as documented: not any iterable (an object)
        child=serializers.ChoiceField(choices=ApiToken.Scope.choices),
        required=False,
        help_text="read: safe methods; write: triage writes; admin: admin endpoints. "
        "Default: all three. Your role still limits what the token can do.",
    )


class TokenOutputSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiToken.Scope.choices))

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]


class TokenCreatedSerializer(TokenOutputSerializer):
    key = serializers.CharField(help_text="Shown once: send it as `Authorization: Token KEY`.")

    class Meta(TokenOutputSerializer.Meta):
        fields = [*TokenOutputSerializer.Meta.fields, "key"]


class TokenListApi(APIView):
    """Your own API tokens."""

    @extend_schema(responses=TokenOutputSerializer(many=True))
    def get(self, request):
        rows = ApiToken.objects.filter(user=request.user).order_by("-id")
        return Response(TokenOutputSerializer(rows, many=True).data)

    @extend_schema(request=TokenInputSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request):
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scopes = data.validated_data.get("scopes")
        ordered = [s.value for s in ApiToken.Scope if scopes is None or s.value in scopes]
        token, key = services.create_api_token(
            user=request.user, name=data.validated_data["name"], scopes=ordered
        )
        token.key = key
        return Response(TokenCreatedSerializer(token).data, status=201)


class TokenDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        """Revoke one of your tokens."""
        try:
            services.revoke_api_token(token_id=pk, actor=request.user)
        except ApiToken.DoesNotExist as exc:
            raise NotFound("No such token.") from exc
        return Response(status=204)
