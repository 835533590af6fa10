import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inbox import selectors
from inbox.api import CanWrite
from inbox.api import _csv_cell as csv_cell
from inbox.filters import REVERSED_RANGE
from inbox.serializers import ConversationDetailSerializer, ConversationOutputSerializer
from tagging import feature_requests as board
from tagging import selectors as tagging_selectors
from tagging import services
from tagging.feature_requests import feature_requests_for
from tagging.models import FeatureRequest, SuggestionDecision, Tag


class TagOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "slug", "name", "color", "description"]


class TagInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    # Left out, it derives from the name (services.create_tag); an empty slug is not a slug.
    slug = serializers.SlugField(max_length=64, required=False)
    color = serializers.CharField(max_length=7, required=False, default="#718096")
    description = serializers.CharField(
        max_length=2000, required=False, default="", allow_blank=True
    )


class TagListApi(APIView):
    """All tags; admins add tags with POST (names unique ignoring case)."""

    @extend_schema(responses=TagOutputSerializer(many=True))
    def get(self, request):
        return Response(TagOutputSerializer(Tag.objects.order_by("name"), many=True).data)

    @extend_schema(request=TagInputSerializer, responses={201: TagOutputSerializer})
    def post(self, request):
        data = TagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag = services.create_tag(actor=request.user, **data.validated_data)
        return Response(TagOutputSerializer(tag).data, status=201)


class ConversationTagsInputSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=serializers.SlugField(max_length=64), min_length=1, max_length=50
    )


class ConversationTagsApi(APIView):
    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(request=ConversationTagsInputSerializer, responses=ConversationOutputSerializer)
    def post(self, request, pk):
        data = ConversationTagsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        tags = services.tags_for_slugs(data.validated_data["tags"])
        services.apply_tags(conversation_id=conversation.pk, tags=tags, actor=request.user)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(ConversationOutputSerializer(conversation).data)


class ConversationTagDeleteApi(APIView):
    permission_classes = [IsAuthenticated, CanWrite]

    # 200 with the conversation (drf-spectacular assumes 204 for a DELETE)
    @extend_schema(responses={200: ConversationOutputSerializer})
    def delete(self, request, pk, slug):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        [tag] = services.tags_for_slugs([slug])
        services.remove_tag(conversation_id=conversation.pk, tag=tag, actor=request.user)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(ConversationOutputSerializer(conversation).data)


class SuggestedTagSerializer(serializers.Serializer):
    tag = serializers.SlugField(help_text="The tag's slug.")
    score = serializers.FloatField(
        min_value=0, max_value=1, help_text="How sure: a probability; 1 for a rule's."
    )
    source = serializers.ChoiceField(choices=SuggestionDecision.Source.choices)


class ConversationWithSuggestionsSerializer(ConversationDetailSerializer):
    """One conversation with the tags suggested for it (passed in context["suggested_tags"]:
    computed once per request by tagging.selectors.suggested_tags_for, never per list row)."""

    suggested_tags = serializers.SerializerMethodField()

    class Meta(ConversationDetailSerializer.Meta):
        fields = [*ConversationDetailSerializer.Meta.fields, "suggested_tags"]
        read_only_fields = fields

    @extend_schema_field(SuggestedTagSerializer(many=True))
    def get_suggested_tags(self, obj) -> list[dict]:
        return [s.as_dict() for s in self.context["suggested_tags"]]


def conversation_with_suggestions(conversation, request) -> dict:
    return ConversationWithSuggestionsSerializer(
        conversation,
        context={
            "request": request,
            "suggested_tags": tagging_selectors.suggested_tags_for(conversation),
        },
    ).data


class SuggestedTagDecisionApi(APIView):
    """Accept (adds the tag) or dismiss (hides it) a tag suggested for the conversation; the
    same answer again changes nothing. 400 when the tag is not suggested there."""

    permission_classes = [IsAuthenticated, CanWrite]

    def decide(self, **kwargs):
        raise NotImplementedError

    @extend_schema(request=None, responses=ConversationWithSuggestionsSerializer)
    def post(self, request, pk, slug):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        [tag] = services.tags_for_slugs([slug])
        self.decide(conversation_id=conversation.pk, tag=tag, actor=request.user)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(conversation_with_suggestions(conversation, request))


class SuggestedTagAcceptApi(SuggestedTagDecisionApi):
    def decide(self, **kwargs):
        return services.accept_suggested_tag(**kwargs)


class SuggestedTagDismissApi(SuggestedTagDecisionApi):
    def decide(self, **kwargs):
        return services.dismiss_suggested_tag(**kwargs)


class FeatureRequestInputSerializer(serializers.Serializer):
    threshold = serializers.FloatField(
        required=False,
        min_value=0.05,
        max_value=0.95,
        help_text="How alike two requests must be to be one (default FEATURE_REQUEST_SIMILARITY).",
    )
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    channel = serializers.SlugField(required=False)

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


class WeekCountSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday the week starts on (UTC).")
    conversations = serializers.IntegerField()


class FeatureRequestOutputSerializer(serializers.Serializer):
    key = serializers.IntegerField(help_text="The id of the request's oldest conversation.")
    id = serializers.IntegerField(
        allow_null=True, help_text="Set once someone acted on the request (it is stored)."
    )
    status = serializers.ChoiceField(choices=FeatureRequest.Status.choices)
    title = serializers.CharField()
    customers = serializers.IntegerField(help_text="Distinct customers who asked.")
    conversations = serializers.IntegerField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    channels = serializers.ListField(child=serializers.SlugField())
    weekly = WeekCountSerializer(many=True)
    conversation_ids = serializers.ListField(child=serializers.IntegerField())


class FeatureRequestListApi(APIView):
    """Feature-request conversations grouped into requests (near-duplicates together), most
    customers first: tagging.feature_requests."""

    @extend_schema(
        parameters=[FeatureRequestInputSerializer],
        responses=FeatureRequestOutputSerializer(many=True),
    )
    def get(self, request):
        params = FeatureRequestInputSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        found = feature_requests_for(user=request.user, **params.validated_data)
        return Response(FeatureRequestOutputSerializer(found, many=True).data)


FEATURE_REQUEST_COLUMNS = [
    "key",
    "title",
    "customers",
    "conversations",
    "first_seen",
    "last_seen",
    "channels",
    "conversation_ids",
]


class FeatureRequestExportApi(APIView):
    """The feature-request board as CSV: the same parameters, groups and order as the list."""

    @extend_schema(
        parameters=[FeatureRequestInputSerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        params = FeatureRequestInputSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        found = feature_requests_for(user=request.user, **params.validated_data)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(FEATURE_REQUEST_COLUMNS)
        for r in found:
            row = [
                r.key,
                r.title,
                r.customers,
                r.conversations,
                r.first_seen.isoformat(),
                r.last_seen.isoformat(),
                " ".join(r.channels),
                " ".join(str(pk) for pk in r.conversation_ids),
            ]
            writer.writerow([csv_cell(v) for v in row])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="feature-requests-{stamp}.csv"'
        return response


class FeatureRequestUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FeatureRequest.Status.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    threshold = serializers.FloatField(required=False, min_value=0.05, max_value=0.95)

    def validate(self, attrs):
        if not attrs.get("status") and not attrs.get("title", "").strip():
            raise serializers.ValidationError({"detail": "Give a status or a title."})
        return attrs


class FeatureRequestDetailApi(APIView):
    """One request, named by any of its conversations' ids; PATCH its status or title (stores
    it: its conversations stay together from then on)."""

    @extend_schema(
        parameters=[FeatureRequestInputSerializer], responses=FeatureRequestOutputSerializer
    )
    def get(self, request, key):
        params = FeatureRequestInputSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        found = board.feature_request_get(
            user=request.user, key=key, threshold=params.validated_data.get("threshold")
        )
        return Response(FeatureRequestOutputSerializer(found).data)

    @extend_schema(request=FeatureRequestUpdateSerializer, responses=FeatureRequestOutputSerializer)
    def patch(self, request, key):
        data = FeatureRequestUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = board.update_feature_request(user=request.user, key=key, **data.validated_data)
        return Response(FeatureRequestOutputSerializer(found).data)


class FeatureRequestMergeSerializer(serializers.Serializer):
    requests = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=1,
        max_length=100,
        source="others",
        help_text="The requests to merge into this one: any conversation id of each.",
    )
    threshold = serializers.FloatField(required=False, min_value=0.05, max_value=0.95)


class FeatureRequestMergeApi(APIView):
    """Merge other requests (`requests`: any conversation id of each) into this one."""

    @extend_schema(request=FeatureRequestMergeSerializer, responses=FeatureRequestOutputSerializer)
    def post(self, request, key):
        data = FeatureRequestMergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = board.merge_feature_requests(user=request.user, key=key, **data.validated_data)
        return Response(FeatureRequestOutputSerializer(found).data)


class FeatureRequestSplitSerializer(serializers.Serializer):
    conversations = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, max_length=1000
    )
    threshold = serializers.FloatField(required=False, min_value=0.05, max_value=0.95)


class FeatureRequestSplitApi(APIView):
    """Move some of this request's conversations into a new request (returned, 201)."""

    @extend_schema(
        request=FeatureRequestSplitSerializer, responses={201: FeatureRequestOutputSerializer}
    )
    def post(self, request, key):
        data = FeatureRequestSplitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = board.split_feature_request(user=request.user, key=key, **data.validated_data)
        return Response(FeatureRequestOutputSerializer(found).data, status=201)


class FeatureRequestMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, allow_blank=True)
    threshold = serializers.FloatField(required=False, min_value=0.05, max_value=0.95)


class FeatureRequestMessageOutputSerializer(serializers.Serializer):
    customers = serializers.IntegerField()
    sent = serializers.ListField(child=serializers.IntegerField(), help_text="Conversation ids.")
    refused = serializers.ListField(
        child=inline_serializer(
            "FeatureRequestMessageRefusal",
            {"conversation": serializers.IntegerField(), "reason": serializers.CharField()},
        )
    )


class FeatureRequestMessageApi(APIView):
    """Once a request is shipped: reply to every customer who asked, once each (on their latest
    conversation of the request). Agents, leads and admins; a second time is refused."""

    @extend_schema(
        request=FeatureRequestMessageSerializer, responses=FeatureRequestMessageOutputSerializer
    )
    def post(self, request, key):
        data = FeatureRequestMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = board.message_feature_request_customers(
            user=request.user, key=key, **data.validated_data
        )
        return Response(FeatureRequestMessageOutputSerializer(outcome).data)
