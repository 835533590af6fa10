"""GET /api/v1/reports/<report>/: the numbers behind the Reports page, as JSON, and as CSV at
/api/v1/reports/<report>/export.csv. Same filters, same permission scope as the page."""

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import exports, metrics, selectors

FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 30 days ago)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
    OpenApiParameter("group_by", str, enum=list(selectors.GROUPINGS)),
    OpenApiParameter("team", str, description="Team slug."),
    OpenApiParameter("channel", str, description="Channel slug."),
    OpenApiParameter("tag", str, description="Tag slug."),
    OpenApiParameter("severity", str, enum=["low", "normal", "high", "critical"]),
    OpenApiParameter("agent", str, description="Assignee's username."),
]


def _filters_or_error(request, default_group="day"):
    try:
        return selectors.parse_filters(request.query_params, default_group=default_group), None
    except selectors.FilterError as exc:
        return None, Response(
            {"code": "invalid_filter", "detail": exc.message, "field": exc.field}, status=400
        )


# --- response shapes (for the schema) --------------------------------------------------------------


class FiltersSerializer(serializers.Serializer):
    from_ = serializers.DateField()
    to = serializers.DateField()
    group_by = serializers.ChoiceField(choices=selectors.GROUPINGS)
    team = serializers.CharField(required=False)
    channel = serializers.CharField(required=False)
    tag = serializers.CharField(required=False)
    severity = serializers.CharField(required=False)
    agent = serializers.CharField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class VolumeRowSerializer(serializers.Serializer):
    period = serializers.DateField()
    created = serializers.IntegerField()
    resolved = serializers.IntegerField()
    reopened = serializers.IntegerField()
    backlog = serializers.IntegerField(help_text="Open conversations at the end of the period.")


class VolumeSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    totals = inline_serializer(
        "VolumeTotals",
        {
            "created": serializers.IntegerField(),
            "resolved": serializers.IntegerField(),
            "reopened": serializers.IntegerField(),
            "backlog": serializers.IntegerField(),
        },
    )
    rows = VolumeRowSerializer(many=True)


class DurationSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)


class PercentileMethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=["exact", "histogram"],
        help_text="exact: from every value in the range; histogram: from the daily duration "
        "histograms, used when the range holds REPORTS_EXACT_PERCENTILE_LIMIT values or more.",
    )
    relative_error = serializers.FloatField(
        allow_null=True,
        help_text="For histogram: the bound on a median's or 90th percentile's relative error "
        "(durations of a second or more).",
    )


class ResponseTimesRowSerializer(serializers.Serializer):
    period = serializers.DateField()
    first_response = DurationSerializer()
    resolution = DurationSerializer()


class ResponseTimesSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    totals = inline_serializer(
        "ResponseTimesTotals",
        {
            "first_response": DurationSerializer(),
            "resolution": DurationSerializer(),
            "business_hours_conversations": serializers.IntegerField(),
        },
    )
    rows = ResponseTimesRowSerializer(many=True)
    percentiles = PercentileMethodSerializer()


class TargetSerializer(serializers.Serializer):
    met = serializers.IntegerField()
    missed = serializers.IntegerField()
    share_met = serializers.FloatField(allow_null=True)


class SLATargetsSerializer(serializers.Serializer):
    first_response = TargetSerializer()
    next_response = TargetSerializer()
    resolution = TargetSerializer()


class SLARowSerializer(SLATargetsSerializer):
    period = serializers.DateField()


class BreachSerializer(serializers.Serializer):
    team = serializers.CharField(allow_null=True)
    severity = serializers.CharField()
    first_response = serializers.IntegerField()
    next_response = serializers.IntegerField()
    resolution = serializers.IntegerField()
    total = serializers.IntegerField()


class SLASerializer(serializers.Serializer):
    filters = FiltersSerializer()
    totals = SLATargetsSerializer()
    rows = SLARowSerializer(many=True)
    breaches = BreachSerializer(many=True)


class FCRRowSerializer(serializers.Serializer):
    period = serializers.DateField()
    resolved = serializers.IntegerField()
    first_contact = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class FCRSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    totals = inline_serializer(
        "FCRTotals",
        {
            "resolved": serializers.IntegerField(),
            "first_contact": serializers.IntegerField(),
            "rate": serializers.FloatField(allow_null=True),
        },
    )
    rows = FCRRowSerializer(many=True)


class CSATRowSerializer(serializers.Serializer):
    period = serializers.DateField()
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)


class CSATSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    totals = inline_serializer(
        "CSATTotals",
        {
            "sent": serializers.IntegerField(),
            "answered_of_sent": serializers.IntegerField(),
            "response_rate": serializers.FloatField(allow_null=True),
            "answered": serializers.IntegerField(),
            "average_score": serializers.FloatField(allow_null=True),
            "scores": serializers.DictField(child=serializers.IntegerField()),
        },
    )
    rows = CSATRowSerializer(many=True)


class CommentSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(source="conversation_id")
    subject = serializers.CharField(source="conversation.subject")
    score = serializers.IntegerField()
    comment = serializers.CharField()
    answered_at = serializers.DateTimeField()
    channel = serializers.CharField(source="channel.slug")
    team = serializers.CharField(source="conversation.team.slug", default=None)
    agent = serializers.CharField(source="conversation.assignee.username", default=None)


class WorkloadRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    assigned = serializers.IntegerField()
    resolved = serializers.IntegerField()
    median_handle_seconds = serializers.FloatField(allow_null=True)


class WorkloadSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    agents = WorkloadRowSerializer(many=True)
    teams = WorkloadRowSerializer(many=True)
    percentiles = PercentileMethodSerializer()


class TagRowSerializer(serializers.Serializer):
    period = serializers.DateField()
    counts = serializers.DictField(child=serializers.IntegerField())


class TagsSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    tags = serializers.ListField(child=serializers.CharField())
    totals = serializers.DictField(child=serializers.IntegerField())
    rows = TagRowSerializer(many=True)


class PhraseSerializer(serializers.Serializer):
    phrase = serializers.CharField()
    conversations = serializers.IntegerField()


class PhrasesSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    tag = serializers.CharField()
    sampled = serializers.IntegerField()
    phrases = PhraseSerializer(many=True)


class HeatRowSerializer(serializers.Serializer):
    weekday = serializers.CharField()
    hours = serializers.ListField(child=serializers.IntegerField(), min_length=24, max_length=24)


class BusiestHoursSerializer(serializers.Serializer):
    filters = FiltersSerializer()
    time_zone = serializers.CharField()
    weekdays = serializers.ListField(child=serializers.CharField())
    rows = HeatRowSerializer(many=True)
    total = serializers.IntegerField()


# --- views ---------------------------------------------------------------------------------------


def _report_view(name: str, serializer, summary: str, default_group: str = "day"):
    class View(APIView):
        @extend_schema(
            parameters=FILTER_PARAMETERS,
            responses=serializer,
            summary=summary,
            operation_id=f"reports_{name.replace('-', '_')}",
            tags=["reports"],
        )
        def get(self, request):
            f, error = _filters_or_error(request, default_group)
            if error:
                return error
            return Response(serializer(metrics.REPORTS[name](request.user, f)).data)

    View.__name__ = View.__qualname__ = "".join(p.title() for p in name.split("-")) + "ReportApi"
    View.__doc__ = summary
    return View


VolumeReportApi = _report_view(
    "volume", VolumeSerializer, "Conversations created, resolved, reopened; backlog over time."
)
ResponseTimesReportApi = _report_view(
    "response-times",
    ResponseTimesSerializer,
    "First response and resolution time: median and 90th percentile (business seconds where "
    "the SLA policy counts business hours).",
)
SLAReportApi = _report_view(
    "sla", SLASerializer, "SLA compliance per target; breaches by team and severity."
)
FCRReportApi = _report_view(
    "first-contact-resolution",
    FCRSerializer,
    "Share of resolved conversations resolved with one agent reply and never reopened.",
)
CSATReportApi = _report_view(
    "csat", CSATSerializer, "Satisfaction surveys: sent, answered, average score, response rate."
)
WorkloadReportApi = _report_view(
    "workload",
    WorkloadSerializer,
    "Per agent and team: assignments, resolves, median handle time.",
)
TagsReportApi = _report_view(
    "tags", TagsSerializer, "Conversations created per period for each tag.", "week"
)
PhrasesReportApi = _report_view(
    "phrases", PhrasesSerializer, "Top recurring phrases in feature-request conversations."
)
BusiestHoursReportApi = _report_view(
    "busiest-hours", BusiestHoursSerializer, "Arrivals by weekday and hour of day."
)


class CommentPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


class CSATCommentsApi(APIView):
    """Survey answers with a comment, newest first (paginated with limit and offset)."""

    pagination_class = CommentPagination

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses=CommentSerializer(many=True),
        operation_id="reports_csat_comments",
        tags=["reports"],
    )
    def get(self, request):
        f, error = _filters_or_error(request)
        if error:
            return error
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            metrics.csat_comments(request.user, f), request, view=self
        )
        return paginator.get_paginated_response(CommentSerializer(page, many=True).data)


class ReportExportApi(APIView):
    """Any report as CSV (the table behind its chart); `csat-comments` lists the comments."""

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        operation_id="reports_export_csv",
        tags=["reports"],
    )
    def get(self, request, report: str):
        if report != "csat-comments" and report not in exports.WRITERS:
            raise NotFound(f"There is no report {report!r}.")
        default_group = "week" if report in selectors.WEEKLY else "day"
        f, error = _filters_or_error(request, default_group)
        if error:
            return error
        if report == "csat-comments":
            body = exports.comments_csv(metrics.csat_comments(request.user, f)[:10_000])
        else:
            source, writer = exports.WRITERS[report]
            body = exports.to_csv(writer(metrics.REPORTS[source](request.user, f)))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{report}-{stamp}.csv"'
        return response
