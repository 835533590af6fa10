"""GET /api/v1/reports/nps/ and /api/v1/reports/ces/: the NPS and CES reports (reports.survey_metrics)
as JSON, weekly unless group_by says otherwise; CSV at /api/v1/reports/{nps,ces}/export.csv."""

from rest_framework import serializers

from reports.api import FiltersSerializer, _report_view


class NPSFiguresSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    promoters = serializers.IntegerField(help_text="Answers of 9 or 10.")
    passives = serializers.IntegerField(help_text="Answers of 7 or 8.")
    detractors = serializers.IntegerField(help_text="Answers of 0 to 6.")
    nps = serializers.FloatField(
        allow_null=True,
        help_text="Percent promoters minus percent detractors, -100 to 100; null without answers.",
    )


class CESFiguresSerializer(serializers.Serializer):
    answered = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True, help_text="1-7, higher is easier.")
    distribution = serializers.DictField(
        child=serializers.IntegerField(), help_text="Answers per score, '1' to '7'."
    )


def _survey_serializers(name: str, figures):
    class Row(figures):
        period = serializers.DateField()
        sent = serializers.IntegerField()

    class Named(figures):
        name = serializers.CharField(
            allow_null=True, help_text="Slug or username; null: no team or no assignee."
        )

    class Totals(figures):
        sent = serializers.IntegerField()
        answered_of_sent = serializers.IntegerField()
        response_rate = serializers.FloatField(allow_null=True)
        distribution = serializers.DictField(child=serializers.IntegerField())

    class Breakdown(serializers.Serializer):
        team = Named(many=True)
        agent = Named(many=True)
        channel = Named(many=True)
        tag = Named(many=True)

    class Report(serializers.Serializer):
        filters = FiltersSerializer()
        totals = Totals()
        rows = Row(many=True)
        breakdown = Breakdown()

    for cls, suffix in ((Row, "Row"), (Named, "Named"), (Totals, "Totals"), (Breakdown, "By")):
        cls.__name__ = cls.__qualname__ = f"{name}{suffix}Serializer"
    Report.__name__ = Report.__qualname__ = f"{name}Serializer"
    return Report


NPSSerializer = _survey_serializers("NPS", NPSFiguresSerializer)
CESSerializer = _survey_serializers("CES", CESFiguresSerializer)

NPSReportApi = _report_view(
    "nps",
    NPSSerializer,
    "Net Promoter Score: promoters, passives, detractors and NPS per period and per team, "
    "agent, channel and tag.",
    "week",
)
CESReportApi = _report_view(
    "ces",
    CESSerializer,
    "Customer Effort Score: average and distribution per period and per team, agent, channel "
    "and tag.",
    "week",
)
