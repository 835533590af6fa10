"""The Reports page (agents' UI) and the customer's public survey page."""

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Team
from accounts.permissions import sees_everything
from inbox.models import SEVERITY_WORDS, Channel, Severity
from reports import metrics, selectors, services
from reports.models import RollupState
from reports.surveys import SCALES, page_language
from tagging.models import Tag

User = get_user_model()

# The report's grouping as the reader's language names it; the key stays the query's word.
GROUPING_WORDS = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
}
CHARTS = [
    # (report, csv slug, title)
    ("volume", "volume", gettext_lazy("Volume and backlog")),
    ("response-times", "response-times", gettext_lazy("First response and resolution time")),
    ("sla", "sla", gettext_lazy("SLA compliance")),
    (
        "first-contact-resolution",
        "first-contact-resolution",
        gettext_lazy("First-contact resolution"),
    ),
    ("csat", "csat", gettext_lazy("Customer satisfaction")),
    ("nps", "nps", gettext_lazy("Net Promoter Score (NPS)")),
    ("ces", "ces", gettext_lazy("Customer effort (CES)")),
    ("workload", "workload", gettext_lazy("Workload")),
    ("tags", "tags", gettext_lazy("Tag trends")),
    ("phrases", "phrases", gettext_lazy("Recurring phrases in feature requests")),
    ("busiest-hours", "busiest-hours", gettext_lazy("Busiest hours")),
]


@login_required
@require_GET
def reports_page(request):
    """Every report for one set of filters, drawn by static/reports/charts.js from JSON blocks
    in the page (no inline script); each chart links to its CSV."""
    error = None
    try:
        f = selectors.parse_filters(request.GET)
    except selectors.FilterError as exc:
        error = exc.message
        f = selectors.parse_filters({})
    # The weekly reports (tag trends, NPS, CES) follow group_by when it is given, else weeks.
    tag_filters = {**f.query(), "group_by": request.GET.get("group_by") or "week"}
    if error:
        tag_filters["group_by"] = "week"
    weekly = selectors.parse_filters(tag_filters, default_group="week")
    data = {
        name: metrics.REPORTS[name](request.user, weekly if name in selectors.WEEKLY else f)
        for name, _slug, _title in CHARTS
    }
    query = urlencode(f.query())
    charts = [
        {
            "name": name,
            "title": title,
            "csv": reverse("api:report-export", args=[slug])
            + "?"
            + (urlencode(tag_filters) if name in selectors.WEEKLY else query),
            "data_id": f"data-{name}",
        }
        for name, slug, title in CHARTS
    ]
    comments = list(metrics.csat_comments(request.user, f)[:20])
    agents = User.objects.filter(is_active=True).exclude(role="viewer").order_by("username")
    state = RollupState.objects.filter(pk=1).first()
    return render(
        request,
        "reports/page.html",
        {
            "filters": f,
            "query": f.query(),
            "error": error,
            "charts": charts,
            "data": data,
            "blobs": [(f"data-{name}", blob) for name, blob in data.items()],
            "time_zone": data["busiest-hours"]["time_zone"],
            "comments": comments,
            "comments_csv": reverse("api:report-export", args=["csat-comments"]) + "?" + query,
            "breaches_csv": reverse("api:report-export", args=["sla-breaches"]) + "?" + query,
            "teams": Team.objects.order_by("name"),
            "channels": Channel.objects.order_by("name"),
            "tags": Tag.objects.order_by("name"),
            "severities": [(s.label, SEVERITY_WORDS[s.label]) for s in Severity],
            "agents": agents,
            "groupings": [(g, GROUPING_WORDS[g]) for g in selectors.GROUPINGS],
            "refreshed_at": getattr(state, "refreshed_at", None),
            "everything": sees_everything(request.user),
        },
        status=400 if error else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def survey_page(request, token: str):
    """The customer's one-question survey (CSAT, NPS or CES), in the customer's language
    (reports.surveys.page_language). An unknown token is a plain 404 (it reveals nothing); a
    second answer is refused with a clear message and the first one stands."""
    survey = services.survey_for_token(token)
    if survey is None:
        raise Http404("No such survey.")
    language = page_language(survey, request)
    with translation.override(language):
        response = _survey_response(request, token, survey)
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _survey_response(request, token: str, survey):
    scale = SCALES[survey.kind]
    context = {
        "survey": survey,
        "channel": survey.channel,
        "scale": scale,
        "scores": scale.scores,
        "language": translation.get_language(),
    }
    if request.method == "GET":
        if survey.answered_at is not None:
            context["refused"] = _("You have already answered this survey. Thank you!")
        preset = request.GET.get("score", "")
        context["preset"] = (
            int(preset) if preset.isdigit() and int(preset) in scale.scores else None
        )
        return render(request, "reports/survey.html", context)
    try:
        survey = services.answer_survey(
            token=token,
            score=request.POST.get("score"),
            comment=request.POST.get("comment", ""),
        )
    except services.SurveyAlreadyAnswered as exc:
        context["refused"] = str(exc)
        return render(request, "reports/survey.html", context, status=409)
    except services.SurveyError as exc:
        context["error"] = str(exc)
        context["comment"] = request.POST.get("comment", "")[:5000]
        return render(request, "reports/survey.html", context, status=400)
    context["thanks"] = True
    context["survey"] = survey
    return render(request, "reports/survey.html", context)
