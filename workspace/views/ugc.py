"""The UGC library page for the marketing team (tagging.ugc): `ugc`-tagged conversations with
their customer's media as thumbnails, filterable by channel and date, newest first; the one-click
permission question, the recorded answer, and the full-size download of granted items."""

import datetime as dt

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from accounts.permissions import can_write
from core.errors import ActionRefused
from inbox import attachments, titles
from inbox.models import Channel
from inbox.pagination import KeysetPagination
from tagging import ugc
from tagging.models import UgcItem
from tagging.ugc_api import UgcFilterSerializer
from workspace.views.common import PageParams, back, errors_of


def _filters(request) -> tuple[QueryDict, list[str]]:
    """The page's fields as the API's parameters, and the problems with its days: dates are
    days, from midnight UTC; the end day is included."""
    params, errors = QueryDict(mutable=True), []
    for key in ("channel", "permission", "cursor", "page_size"):
        if request.GET.get(key):
            params[key] = request.GET[key]
    labels = {"created_after": _("From"), "created_before": _("To")}
    for key, label in labels.items():
        day = request.GET.get(key)
        if not day:
            continue
        try:
            start = dt.date.fromisoformat(day)
            if key == "created_before" and start < dt.date.max:
                start += dt.timedelta(days=1)
        except ValueError:
            errors.append(_("%(field)s: enter a day as YYYY-MM-DD.") % {"field": label})
            continue
        params[key] = f"{start.isoformat()}T00:00:00Z"
    return params, errors


@login_required
@require_GET
def gallery(request):
    """The library: newest conversation first, a page at a time."""
    params, errors = _filters(request)
    rows, next_link = [], None
    data = UgcFilterSerializer(data=params.dict())
    try:
        if errors:
            raise ApiValidationError({"detail": errors})
        data.is_valid(raise_exception=True)
        qs = ugc.ugc_conversations_for(user=request.user, **data.filters()).select_related(
            "channel", "contact"
        )
        page = KeysetPagination()
        page.page_size = 24
        rows = ugc.attach_items(
            titles.attach_titles(page.paginate(qs, PageParams(request, params), "-created_at"))
        )
        next_link = page.next_link()
    except ApiValidationError as exc:
        errors = errors_of(exc)
    return render(
        request,
        "ui/ugc.html",
        {
            "items": rows,
            "next": next_link,
            "errors": errors,
            "chosen": request.GET,
            "channels": Channel.objects.order_by("name"),
            "permissions": UgcItem.Permission.choices,
            "can_write": can_write(request.user),
        },
        status=400 if errors else 200,
    )


def _gallery_back(request):
    return back(request, reverse("ui:ugc"))


@login_required
@require_POST
def ask_permission(request, pk):
    """The one-click question to the customer, on the conversation's own channel."""
    try:
        ugc.ask_permission(user=request.user, conversation_id=pk)
    except ActionRefused as exc:
        flash.error(request, _("Not sent: %(reason)s") % {"reason": exc})
    else:
        flash.success(request, _("Permission asked: the question is on its way to the customer."))
    return _gallery_back(request)


@login_required
@require_POST
def set_permission(request, pk):
    """Record the customer's answer with a click."""
    try:
        item = ugc.set_permission(
            user=request.user, conversation_id=pk, permission=request.POST.get("permission", "")
        )
    except DjangoValidationError as exc:
        for problem in errors_of(exc):
            flash.error(request, problem)
    else:
        flash.success(
            request, _("Permission recorded: %(state)s.") % {"state": item.get_permission_display()}
        )
    return _gallery_back(request)


@login_required
@require_GET
def thumbnail(request, pk):
    """A scaled-down JPEG of a customer's image: what everyone who sees the item may see."""
    attachment = ugc.medium_get(user=request.user, pk=pk)
    data = ugc.thumbnail(attachment)
    if data is None:
        raise Http404(_("This file has no thumbnail."))
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def download(request, pk):
    """The full-size file, for granted items only (a 403 in words for the others)."""
    attachment = ugc.full_size_get(user=request.user, pk=pk)
    try:
        stored = attachments.opened(attachment)
    except attachments.MissingFile as exc:
        raise Http404(_("The file is missing from the file storage.")) from exc
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=attachment.name or "attachment",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
