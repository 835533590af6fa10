"""The product team's view: feature requests (or any tag) by date range, channel and text, counted
per week, with a CSV export."""

import datetime as dt

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from inbox import selectors, titles
from inbox.models import Channel
from inbox.pagination import KeysetPagination
from tagging.api import FeatureRequestInputSerializer
from tagging.feature_requests import feature_requests_for, update_feature_request
from tagging.models import FeatureRequest, Tag
from workspace.views.common import PageParams, errors_of


def _nice_step(peak: int) -> int:
    """A tick step of 1, 2 or 5 times a power of ten giving at most five ticks up to `peak`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak / (step * factor) <= 5:
                return step * factor
        step *= 10


CHART_WEEKS = 26


def _weekly_chart(qs) -> dict:
    """Conversations per week (Monday start) as an SVG bar chart with both axes: the last 26
    weeks that have any, with the empty weeks between them drawn as zero (a gap is news too),
    each bar's value above it, a y axis with round ticks and grid lines."""
    rows = list(
        qs.order_by()
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    if not rows:
        return {}
    counts = {r["week"].date() if hasattr(r["week"], "date") else r["week"]: r["n"] for r in rows}
    last = max(counts)
    first = max(min(counts), last - dt.timedelta(weeks=CHART_WEEKS - 1))
    weeks = []
    week = first
    while week <= last:
        weeks.append((week, counts.get(week, 0)))
        week += dt.timedelta(weeks=1)
    peak = max(n for _, n in weeks) or 1
    step = _nice_step(peak)
    top = -(-peak // step) * step  # the axis ends on a tick at or above the peak
    left, plot_h, bottom, head = 40, 120, 34, 16
    width, gap = 28, 8
    bars = []
    label_every = 1 if len(weeks) <= 13 else 2
    for i, (week, n) in enumerate(weeks):
        h = round(n / top * plot_h)
        bars.append(
            {
                "x": left + gap + i * (width + gap),
                "y": head + plot_h - h,
                "h": h,
                "w": width,
                "n": n,
                "week": week,
                "label": i % label_every == 0 or i == len(weeks) - 1,
                "mid": left + gap + i * (width + gap) + width // 2,
            }
        )
    ticks = [
        {"value": v, "y": head + plot_h - round(v / top * plot_h)} for v in range(0, top + 1, step)
    ]
    full_width = left + gap + len(weeks) * (width + gap)
    return {
        "bars": bars,
        "ticks": ticks,
        "left": left,
        "right": full_width,
        "base": head + plot_h,
        "top_y": head,
        "width": full_width,
        "height": head + plot_h + bottom,
        "axis_label_y": head + plot_h // 2,
        "total": sum(n for _, n in weeks),
        "first": weeks[0][0],
        "last": weeks[-1][0],
    }


REQUESTS_SHOWN = 20


def _requests(request, params) -> list:
    """The grouped requests (tagging.feature_requests) for the page's channel and dates, when
    the page shows the feature-request tag; a bad value raises ApiValidationError."""
    if params.get("tag") != settings.REPORTS_FEATURE_REQUEST_TAG:
        return []
    given = {key: params[key] for key in ("channel",) if params.get(key)}
    for key in ("created_after", "created_before"):
        if params.get(key):  # the page's date fields: days, from midnight UTC
            given[key] = f"{params[key]}T00:00:00Z"
    if request.GET.get("threshold"):
        given["threshold"] = request.GET["threshold"]
    data = FeatureRequestInputSerializer(data=given)
    data.is_valid(raise_exception=True)
    return feature_requests_for(user=request.user, **data.validated_data)[:REQUESTS_SHOWN]


@login_required
@require_GET
def product_view(request):
    """Feature requests (or any tag) by date range, channel and text; counts per week; CSV."""
    params = QueryDict(mutable=True)
    params.setlist("tag", [request.GET.get("tag") or "feature-request"])
    for key in ("channel", "created_after", "created_before", "q"):
        if request.GET.get(key):
            params[key] = request.GET[key]
    chosen = Tag.objects.filter(slug=params["tag"]).first()
    errors = []
    try:
        qs, _ = selectors.conversation_list_for_agent(
            user=request.user, params=params, request=request
        )
        page = KeysetPagination()
        rows = titles.attach_titles(page.paginate(qs, PageParams(request, params), "-created_at"))
        chart = _weekly_chart(qs)
        next_link = page.next_link()
        requests = _requests(request, params)
    except ApiValidationError as exc:
        rows, chart, next_link, errors, requests = [], None, None, errors_of(exc), []
    return render(
        request,
        "ui/product.html",
        {
            "heading": chosen.name if chosen else params["tag"],
            "conversations": rows,
            "requests": requests,
            "statuses": FeatureRequest.Status.choices,
            "threshold": request.GET.get("threshold", ""),
            "default_threshold": settings.FEATURE_REQUEST_SIMILARITY,
            "board_export_url": reverse("api:feature-request-export")
            + "?"
            + urlencode(
                {k: v for k, v in request.GET.items() if k in ("channel", "threshold") and v}
            ),
            "chart": chart,
            "next": next_link,
            "errors": errors,
            "params": params,
            "tags": Tag.objects.order_by("name"),
            "channels": Channel.objects.order_by("name"),
            "export_url": reverse("api:conversation-export") + "?" + urlencode(params, doseq=True),
            "now": timezone.now(),
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def set_feature_request_status(request, key):
    """The product page's status field of one request (tagging.feature_requests)."""
    status = request.POST.get("status", "")
    back = reverse("ui:product") + "?" + urlencode({"tag": settings.REPORTS_FEATURE_REQUEST_TAG})
    if status not in FeatureRequest.Status.values:
        flash.error(
            request,
            _("Status is one of %(names)s.") % {"names": ", ".join(FeatureRequest.Status.values)},
        )
        return redirect(back)
    try:
        found = update_feature_request(user=request.user, key=key, status=status)
    except DjangoValidationError as exc:
        for problem in errors_of(exc):
            flash.error(request, problem)
    else:
        flash.success(request, f"{found.title}: {found.status}.")
    return redirect(back)
