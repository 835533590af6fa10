"""The product team's view: feature requests (or any tag) by date range, channel and text, counted
per week, with a CSV export."""

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
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from inbox import selectors, titles
from inbox.models import Channel
from inbox.pagination import KeysetPagination
from tagging.api import FeatureRequestInputSerializer
from tagging.feature_requests import feature_requests_for, update_feature_request
from tagging.models import FeatureRequest, Tag
from workspace.views.common import PageParams, errors_of


def _weekly_chart(qs) -> dict:
    rows = list(
        qs.order_by()
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    peak = max((r["n"] for r in rows), default=0) or 1
    width, height, gap = 32, 120, 8
    bars = []
    for i, row in enumerate(rows[-26:]):
        h = round(row["n"] / peak * height)
        bars.append(
            {
                "x": i * (width + gap),
                "y": height - h,
                "h": h,
                "w": width,
                "n": row["n"],
                "week": row["week"],
            }
        )
    return {
        "bars": bars,
        "width": max(len(bars) * (width + gap), width),
        "height": height,
        "total": sum(r["n"] for r in rows),
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
        flash.error(request, f"Status is one of {', '.join(FeatureRequest.Status.values)}.")
        return redirect(back)
    try:
        found = update_feature_request(user=request.user, key=key, status=status)
    except DjangoValidationError as exc:
        for problem in errors_of(exc):
            flash.error(request, problem)
    else:
        flash.success(request, f"{found.title}: {found.status}.")
    return redirect(back)
