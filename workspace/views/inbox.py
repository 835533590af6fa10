"""The inbox: the conversation list with its filters, the sidebar of views with capped live counts,
and one list row re-fetched by the live feed."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError as ApiValidationError

from accounts.models import Membership
from accounts.permissions import can_see_spike_alerts
from inbox import filters, reads, search, selectors, titles
from inbox.api import COUNT_CAP, SavedViewListApi
from inbox.models import Channel, Status
from inbox.pagination import KeysetPagination
from routing.macros import macros_for
from tagging.models import SpikeAlert, Tag
from workspace.templatetags.ui import row_view
from workspace.views.common import PageParams, agents_with_load, errors_of, write_context

SORTS = [
    ("-last_message_at", gettext_lazy("Newest activity")),
    ("last_message_at", gettext_lazy("Oldest activity")),
    ("-created_at", gettext_lazy("Newest first")),
    ("created_at", gettext_lazy("Oldest first")),
    ("first_response_due", gettext_lazy("SLA due soonest")),
    ("severity", gettext_lazy("Most severe")),
]


# --- the sidebar ----------------------------------------------------------------------------------


def sidebar_views(request, *, counted: bool = True) -> list[dict]:
    """Built-in views, one per default tag, then saved views; each with a capped live count.
    All counts come from one statement of capped sub-counts (each an index scan that stops at
    COUNT_CAP rows, most of them index-only on conv_open_scope); the built-in views' conditions
    are the list filters' own expressions (inbox.filters), so no filter set is built for them.
    `counted=False` gives the names and links alone: the inbox page renders those at once and
    the sidebar fragment brings the counts right after (htmx, on load)."""
    from django.db.models import Q

    user = request.user
    open_ = Q(status=Status.OPEN)
    team_ids, team_slugs = [], []
    for team_id, slug in (
        Membership.objects.filter(user=user).values_list("team_id", "team__slug").order_by("team")
    ):
        team_ids.append(team_id)
        team_slugs.append(slug)
    built_in = [
        (gettext_lazy("Mine"), {"assignee": ["me"]}, open_ & Q(assignee_id=user.pk)),
        (gettext_lazy("Unassigned"), {"unassigned": ["true"]}, open_ & Q(assignee__isnull=True)),
        (gettext_lazy("All"), {}, open_),
        (gettext_lazy("Overnight"), {"overnight": ["true"]}, filters.overnight_q()),
        (gettext_lazy("SLA at risk"), {"sla_at_risk": ["true"]}, open_ & filters.sla_at_risk_q()),
        (gettext_lazy("SLA breached"), {"sla_breached": ["true"]}, open_ & Q(sla_breached=True)),
    ]
    if team_slugs:
        built_in.insert(
            2, (gettext_lazy("My teams"), {"team": team_slugs}, open_ & Q(team_id__in=team_ids))
        )
    for tag in Tag.objects.filter(is_default=True).order_by("name"):
        built_in.append((tag.name, {"tag": [tag.slug]}, open_ & filters.tag_exists([tag.pk])))
    # Out of every other view; a blocked contact's messages are in none (their contact's page).
    built_in.append(
        (gettext_lazy("Automated"), {"status": [Status.AUTOMATED]}, Q(status=Status.AUTOMATED))
    )
    built_in.append((gettext_lazy("Spam"), {"status": [Status.SPAM]}, Q(status=Status.SPAM)))
    saved_views = SavedViewListApi().visible(user).order_by("position", "name")
    views = [_view_entry(request, name, view_filters) for name, view_filters, _ in built_in]
    views += [_view_entry(request, saved.name, saved.filters) for saved in saved_views]
    if not counted:
        return views
    base = selectors.conversation_base_for(user)
    counted_querysets = [base.filter(condition) for _, _, condition in built_in]
    counted_querysets += [_saved_view_queryset(request, saved) for saved in saved_views]
    for entry, count in zip(views, capped_counts(counted_querysets), strict=True):
        entry["count"] = count
        entry["capped"] = count is not None and count >= COUNT_CAP
    return views


def _saved_view_queryset(request, saved):
    """The saved view's list, or None when its filters no longer validate (it shows "?")."""
    try:
        qs, _ = selectors.conversation_list_for_agent(
            user=request.user, params=_view_params(saved.filters), request=request
        )
    except ApiValidationError:
        return None
    return qs


def capped_counts(querysets) -> list[int | None]:
    """min(count, COUNT_CAP) of each queryset (None stays None), in one statement."""
    from django.db import connection

    parts, params = [], []
    for qs in querysets:
        if qs is None:
            continue
        sql, qs_params = qs.order_by().values("pk")[:COUNT_CAP].query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS v{len(parts)})")  # noqa: S608
        params.extend(qs_params)
    row = []
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = list(cursor.fetchone())
    values = iter(row)
    return [None if qs is None else next(values) for qs in querysets]


def _view_params(view_filters) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, values in view_filters.items():
        params.setlist(key, values if isinstance(values, list) else [values])
    if "status" not in params and "overnight" not in params:
        params["status"] = "open"
    return params


def _view_entry(request, name, view_filters) -> dict:
    params = _view_params(view_filters)
    query = params.urlencode()
    current = QueryDict(request.GET.urlencode(), mutable=True)
    current.pop("cursor", None)
    return {
        "name": name,
        "url": f"{reverse('ui:inbox')}?{query}",
        "count": None,
        "capped": False,
        "current": sorted(current.lists()) == sorted(params.lists()),
    }


# --- the list -------------------------------------------------------------------------------------


def _list_params(request) -> QueryDict:
    """The list's filters: open conversations unless a status is asked for, except that a
    search looks through every status (status=any says so, and is dropped here)."""
    params = request.GET.copy()
    if "status" not in params and "overnight" not in params and not params.get("q", "").strip():
        params["status"] = "open"
    if params.getlist("status") == ["any"]:
        params.pop("status")
    for key in [k for k, v in params.lists() if v == [""]]:
        params.pop(key)
    return params


def _list_page(request, params):
    qs, ordering = selectors.conversation_list_for_agent(
        user=request.user, params=params, request=request
    )
    paginator = KeysetPagination()
    page = paginator.paginate(qs, PageParams(request, params), ordering)
    return page, paginator.next_link()


@login_required
@require_GET
def inbox_page(request):
    context, errors = list_context(request)
    return render(request, "ui/inbox.html", context, status=400 if errors else 200)


def list_context(request) -> tuple[dict, list[str]]:
    """The middle pane: the list with its filters, the views' names (their counts follow by
    htmx) and the bulk bar. The inbox page shows it beside an empty conversation pane; a
    conversation opened as a full page shows it beside that conversation (workspace.html)."""
    params = _list_params(request)
    errors = []
    try:
        page, next_link = _list_page(request, params)
    except ApiValidationError as exc:
        page, next_link, errors = [], None, errors_of(exc)
    now = timezone.now()
    page = titles.attach_previews(titles.attach_titles(page))
    unread = reads.unread_ids(user=request.user, conversations=page)
    for conversation in page:
        conversation.row = row_view(conversation, now, unread=conversation.pk in unread)
    q = params.get("q", "").strip()
    context = {
        "conversations": page,
        "q": q,
        "found_contacts": search.contacts_matching(user=request.user, q=q) if q else [],
        "next": next_link,
        "params": params,
        "errors": errors,
        "views": sidebar_views(request, counted=False),
        "channels": Channel.objects.order_by("name"),
        "sorts": SORTS,
        "now": now,
        **write_context(request),
    }
    if context["can_bulk"]:  # only the bulk bar names agents with their open loads
        context["agents"] = agents_with_load()
        context["macros"] = list(macros_for(user=request.user).order_by("name", "pk"))
    context["spikes"] = open_spikes(request.user)
    return context, errors


def open_spikes(user) -> list[SpikeAlert]:
    """The incident spikes still open, for the banner above the list (leads and admins)."""
    if not can_see_spike_alerts(user):
        return []
    return list(SpikeAlert.objects.filter(closed_at__isnull=True).order_by("-opened_at")[:5])


@login_required
@require_GET
def sidebar(request):
    """The views with their counts: htmx loads it as soon as the inbox page is there, again when
    the live feed says something changed, and every minute (SLA at risk moves with the clock)."""
    return render(request, "ui/_sidebar.html", {"views": sidebar_views(request), "counted": True})


@login_required
@require_GET
def conversation_row(request, pk):
    """One list row, re-fetched by the live feed when an event names the conversation. With the
    list's filters in the query string, a conversation that does not match them is a 204 (the
    page drops the row or does not add it)."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    params = _list_params(request)
    for key in ("cursor", "page_size", "ordering"):
        params.pop(key, None)
    try:
        qs, _ = selectors.conversation_list_for_agent(
            user=request.user, params=params, request=request
        )
    except ApiValidationError:
        return HttpResponse(status=204)
    if not qs.filter(pk=conversation.pk).exists():
        return HttpResponse(status=204)
    now = timezone.now()
    titles.attach_previews(titles.attach_titles([conversation]))
    unread = reads.unread_ids(user=request.user, conversations=[conversation])
    conversation.row = row_view(conversation, now, unread=bool(unread))
    return render(
        request,
        "ui/_row.html",
        {"c": conversation, "now": now, **write_context(request)},
    )
