from django.urls import path

from reports import api, survey_api

urlpatterns = [
    path("reports/volume/", api.VolumeReportApi.as_view(), name="report-volume"),
    path(
        "reports/response-times/",
        api.ResponseTimesReportApi.as_view(),
        name="report-response-times",
    ),
    path("reports/sla/", api.SLAReportApi.as_view(), name="report-sla"),
    path(
        "reports/first-contact-resolution/",
        api.FCRReportApi.as_view(),
        name="report-first-contact-resolution",
    ),
    path("reports/csat/", api.CSATReportApi.as_view(), name="report-csat"),
    path("reports/nps/", survey_api.NPSReportApi.as_view(), name="report-nps"),
    path("reports/ces/", survey_api.CESReportApi.as_view(), name="report-ces"),
    path("reports/csat/comments/", api.CSATCommentsApi.as_view(), name="report-csat-comments"),
    path("reports/workload/", api.WorkloadReportApi.as_view(), name="report-workload"),
    path("reports/tags/", api.TagsReportApi.as_view(), name="report-tags"),
    path("reports/phrases/", api.PhrasesReportApi.as_view(), name="report-phrases"),
    path(
        "reports/busiest-hours/", api.BusiestHoursReportApi.as_view(), name="report-busiest-hours"
    ),
    path(
        "reports/<slug:report>/export.csv",
        api.ReportExportApi.as_view(),
        name="report-export",
    ),
]
