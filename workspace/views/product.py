"""The product team's view: feature requests (or any tag) by date range, channel and text, counted
per week, with a CSV export."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError as ApiValidationError

from inbox import selectors, titles
from inbox.models import Channel
from inbox.pagination import KeysetPagination
from tagging.models import Tag
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


@login_required
@require_GET
def product_view(request):
    """Feature requests (or any tag) by date range, channel and text; counts per week; CSV."""
    params = QueryDict(mutable=True)
    params.setlist("tag", [request.GET.get("tag") or "feature-request"])
    for key in ("channel", "created_after", "created_before", "q"):
        if request.GET.get(key):
            params[key] = request.GET[key]
    errors = []
    try:
        qs, _ = selectors.conversation_list_for_agent(
            user=request.user, params=params, request=request
        )
        page = KeysetPagination()
        rows = titles.attach_titles(page.paginate(qs, PageParams(request, params), "-created_at"))
        chart = _weekly_chart(qs)
        next_link = page.next_link()
    except ApiValidationError as exc:
        rows, chart, next_link, errors = [], None, None, errors_of(exc)
    return render(
        request,
        "ui/product.html",
        {
            "conversations": rows,
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
