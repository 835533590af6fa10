"""The agents' browser pages. Thin: parse the form, call the same selectors and services as the
REST API (so scope, permissions and audit are identical), render or redirect.

workspace sits above routing, tagging and inbox, so it may import their services alike.
"""

import datetime as dt
import re

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.http import FileResponse, Http404, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from accounts.models import Membership, Team
from accounts.permissions import can_bulk, can_write
from inbox import filters, selectors
from inbox import services as inbox_services
from inbox.api import COUNT_CAP, SavedViewListApi
from inbox.canned import canned_responses_for
from inbox.models import Activity, Channel, Event, Message, Severity, Status
from inbox.pagination import KeysetPagination
from inbox.senders import get_sender
from routing import services
from routing.api import resolve_assignment
from tagging import services as tagging_services
from tagging.models import Tag
from workspace.templatetags.ui import row_view

User = get_user_model()
SEVERITIES = [s.label for s in Severity]
SORTS = [
    ("-last_message_at", "Newest activity"),
    ("last_message_at", "Oldest activity"),
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("first_response_due", "SLA due soonest"),
    ("severity", "Most severe"),
]


class _Params:
    """Adapts a Django request to what KeysetPagination reads."""

    def __init__(self, request, params):
        self._request = request
        self.query_params = params

    def build_absolute_uri(self):
        return self._request.get_full_path()


def _errors(exc) -> list[str]:
    detail = getattr(exc, "detail", None) or getattr(exc, "message_dict", None)
    if isinstance(detail, dict):
        out = []
        for field, problems in detail.items():
            problems = problems if isinstance(problems, list) else [problems]
            out += [f"{field}: {p}" for p in problems]
        return out
    if isinstance(detail, list):
        return [str(p) for p in detail]
    return [str(getattr(exc, "message", None) or exc)]


def _back(request, fallback: str):
    """Where to return after a form: a local `next`, else the fallback."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


# --- the sidebar ------------------------------------------------------------------------------


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
        ("Mine", {"assignee": ["me"]}, open_ & Q(assignee_id=user.pk)),
        ("Unassigned", {"unassigned": ["true"]}, open_ & Q(assignee__isnull=True)),
        ("All", {}, open_),
        ("Overnight", {"overnight": ["true"]}, filters.overnight_q()),
        ("SLA at risk", {"sla_at_risk": ["true"]}, open_ & filters.sla_at_risk_q()),
        ("SLA breached", {"sla_breached": ["true"]}, open_ & Q(sla_breached=True)),
    ]
    if team_slugs:
        built_in.insert(2, ("My teams", {"team": team_slugs}, open_ & Q(team_id__in=team_ids)))
    for tag in Tag.objects.filter(is_default=True).order_by("name"):
        built_in.append((tag.name, {"tag": [tag.slug]}, open_ & filters.tag_exists([tag.pk])))
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


# --- inbox ------------------------------------------------------------------------------------


def _list_params(request) -> QueryDict:
    params = request.GET.copy()
    if "status" not in params and "overnight" not in params:
        params["status"] = "open"
    for key in [k for k, v in params.lists() if v == [""]]:
        params.pop(key)
    return params


def _list_page(request, params):
    qs, ordering = selectors.conversation_list_for_agent(
        user=request.user, params=params, request=request
    )
    paginator = KeysetPagination()
    page = paginator.paginate(qs, _Params(request, params), ordering)
    return page, paginator.next_link()


def _write_context(request) -> dict:
    teams = list(Team.objects.order_by("name"))
    return {
        "last_event_id": Event.objects.order_by("-pk").values_list("pk", flat=True).first(),
        "can_write": can_write(request.user),
        "can_bulk": can_bulk(request.user),
        "teams": teams,
        "tags": list(Tag.objects.order_by("name")),
        "severities": SEVERITIES,
        "statuses": Status.choices,
    }


@login_required
@require_GET
def inbox_page(request):
    params = _list_params(request)
    errors = []
    try:
        page, next_link = _list_page(request, params)
    except ApiValidationError as exc:
        page, next_link, errors = [], None, _errors(exc)
    now = timezone.now()
    page = list(page)
    for conversation in page:
        conversation.row = row_view(conversation, now)
    context = {
        "conversations": page,
        "next": next_link,
        "params": params,
        "errors": errors,
        "views": sidebar_views(request, counted=False),
        "channels": Channel.objects.order_by("name"),
        "sorts": SORTS,
        "now": now,
        **_write_context(request),
    }
    if context["can_bulk"]:  # only the bulk bar names agents with their open loads
        context["agents"] = _agents_with_load()
    return render(request, "ui/inbox.html", context, status=400 if errors else 200)


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
    conversation.row = row_view(conversation, now)
    return render(
        request,
        "ui/_row.html",
        {"c": conversation, "now": now, **_write_context(request)},
    )


def _agents_with_load():
    agents = list(
        User.objects.filter(is_active=True, role__in=[User.Role.AGENT, User.Role.LEAD])
        .prefetch_related("teams")
        .order_by("username")
    )
    loads = services.open_loads([a.pk for a in agents])
    for agent in agents:
        agent.open_load = loads[agent.pk]
    return agents


@login_required
@require_POST
def bulk_action(request):
    """The list's bulk bar: the same rules as POST /api/v1/conversations/bulk/."""
    if not can_bulk(request.user):
        raise PermissionDenied("Bulk actions are for leads and admins.")
    data = {
        "ids": request.POST.getlist("ids"),
        "action": request.POST.get("action", ""),
        "reason": request.POST.get("reason", ""),
        "spread": request.POST.get("spread") == "on",
    }
    for key in ("team", "assignee", "status", "severity", "snoozed_until"):
        if request.POST.get(key):
            data[key] = request.POST[key]
    if request.POST.getlist("tags"):
        data["tags"] = [t for t in request.POST.getlist("tags") if t]
    from routing.api import BulkInputSerializer

    serializer = BulkInputSerializer(data=data)
    fallback = reverse("ui:inbox")
    if not serializer.is_valid():
        for problem in _errors(ApiValidationError(serializer.errors)):
            flash.error(request, problem)
        return _back(request, fallback)
    v = serializer.validated_data
    wanted = list(dict.fromkeys(v["ids"]))
    try:
        if v["action"] == "assign":
            team, assignee = resolve_assignment(v)
            result = services.bulk_assign(  # locks only what the user can see
                conversation_ids=wanted,
                team=team,
                assignee=assignee,
                actor=request.user,
                reason=v["reason"],
                spread=v["spread"],
            )
            changed = len(result.updated)
        else:
            ids = list(
                selectors.conversation_base_for(request.user)
                .filter(pk__in=wanted)
                .values_list("pk", flat=True)
            )
            result = services.bulk_change(
                conversation_ids=ids,
                action=v["action"],
                actor=request.user,
                reason=v["reason"],
                tags=v.get("tags") or (),
                status=v.get("status"),
                snoozed_until=v.get("snoozed_until"),
                severity=v.get("severity"),
            )
            changed = len(result.updated)
    except (ApiValidationError, DjangoValidationError, inbox_services.ReplyRefused) as exc:
        for problem in _errors(exc):
            flash.error(request, problem)
        return _back(request, fallback)
    flash.success(request, f"{changed} of {len(wanted)} conversations changed.")
    return _back(request, fallback)


@login_required
@require_POST
def set_my_availability(request):
    try:
        services.set_availability(user=request.user, availability=request.POST.get("availability"))
    except (ApiValidationError, DjangoValidationError) as exc:
        for problem in _errors(exc):
            flash.error(request, problem)
    return _back(request, reverse("ui:inbox"))


# --- tag colours -------------------------------------------------------------------------------

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
CSS_SLUG = re.compile(r"[A-Za-z0-9_-]+")


def _ink_for(color: str) -> str:
    """Dark or white text, whichever reads better on the tag's colour (WCAG luminance)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#1a202c" if luminance > 0.179 else "#ffffff"


@login_required
@require_GET
def tags_css(request):
    """Chip colours as a stylesheet (the CSP forbids inline style): `.chip.tag-<slug>` per tag.
    Only #rrggbb colours and plain slugs are written; anything else keeps the default chip."""
    rules = []
    for slug, color in Tag.objects.order_by("slug").values_list("slug", "color"):
        if not (CSS_SLUG.fullmatch(slug) and HEX_COLOR.fullmatch(color or "")):
            continue
        color = color.lower()
        rules.append(
            f".chip.tag-{slug} {{ background: {color}; border-color: {color}; "
            f"color: {_ink_for(color)}; }}"
        )
    response = HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
    patch_cache_control(response, private=True, max_age=60)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- conversation -----------------------------------------------------------------------------


def _reply_refusal(conversation) -> str | None:
    """Why a reply cannot go out now (the channel sender's can_send), shown before typing. The
    service asks again when the reply is posted, so this is a courtesy, not the guard."""
    sender = get_sender(conversation.channel.kind)
    can_send = getattr(sender, "can_send", None)
    return can_send(conversation) if can_send else None


def _conversation_context(request, conversation) -> dict:
    messages = list(selectors.message_list_for_conversation(conversation=conversation))
    others = (
        selectors.conversation_base_for(request.user)
        .filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-last_message_at")[:20]
    )
    activity = (
        Activity.objects.filter(conversation=conversation)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    members = _agents_with_load()
    return {
        "conversation": conversation,
        "is_email": conversation.channel.kind == Channel.Kind.EMAIL,
        "reply_refusal": _reply_refusal(conversation),
        "canned": canned_responses_for(user=request.user, conversation=conversation)
        if can_write(request.user)
        else [],
        "thread_messages": messages,
        "others": others,
        "activity": activity,
        "agents": members,
        "now": timezone.now(),
        "conversation_tags": list(conversation.tags.all()),
        **_write_context(request),
    }


@login_required
@require_GET
def conversation_page(request, pk):
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    return render(request, "ui/conversation.html", _conversation_context(request, conversation))


@login_required
@require_GET
def conversation_thread(request, pk):
    """The thread alone, re-fetched by the live feed when a message arrives."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    return render(request, "ui/_thread.html", _conversation_context(request, conversation))


@login_required
@require_GET
@xframe_options_sameorigin
def message_body(request, pk):
    """A message's sanitized HTML for a sandboxed iframe, under its own strict policy: no script
    at all, and remote images only when the agent asked (?images=1)."""
    message = (
        Message.objects.filter(
            pk=pk, conversation__in=selectors.conversation_base_for(request.user)
        )
        .only("html")
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    images = "img-src data: https:" if request.GET.get("images") == "1" else "img-src data:"
    response = HttpResponse(
        "<!doctype html><meta charset=utf-8><base target=_blank>" + message.html,
        content_type="text/html; charset=utf-8",
    )
    response["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; {images}; sandbox allow-popups"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _act(request, pk, action):
    """Run one write on a visible conversation and come back to it with the outcome shown."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    url = reverse("ui:conversation", args=[conversation.pk])
    if not can_write(request.user):
        raise PermissionDenied("Your role is read-only.")
    try:
        done = action(conversation)
    except inbox_services.ReplyRefused as exc:
        flash.error(request, f"Not sent: {exc}")
    except PermissionDenied as exc:
        flash.error(request, str(exc) or "You may not do that.")
    except (ApiValidationError, DjangoValidationError, ValueError) as exc:
        for problem in _errors(exc):
            flash.error(request, problem)
    else:
        if done:
            flash.success(request, done)
    if selectors.conversation_base_for(request.user).filter(pk=conversation.pk).exists():
        return redirect(url)
    return redirect("ui:inbox")


@login_required
@require_POST
def reply(request, pk):
    def action(conversation):
        inbox_services.send_reply(
            conversation_id=conversation.pk,
            actor=request.user,
            text=request.POST.get("text", ""),
            cc=[a for a in re.split(r"[,;\s]+", request.POST.get("cc", "")) if a],
            subject=request.POST.get("subject", ""),
        )
        return "Reply queued for sending."

    return _act(request, pk, action)


@login_required
@require_POST
def note(request, pk):
    def action(conversation):
        inbox_services.add_note(
            conversation_id=conversation.pk, actor=request.user, text=request.POST.get("text", "")
        )
        return "Note added."

    return _act(request, pk, action)


@login_required
@require_POST
def add_tags(request, pk):
    def action(conversation):
        slugs = [s for s in request.POST.getlist("tags") if s]
        if not slugs:
            raise ValueError("Pick a tag.")
        added = tagging_services.apply_tags(
            conversation_id=conversation.pk,
            tags=tagging_services.tags_for_slugs(slugs),
            actor=request.user,
        )
        return f"Tagged {', '.join(t.name for t in added)}." if added else "Already tagged."

    return _act(request, pk, action)


@login_required
@require_POST
def remove_tag(request, pk, slug):
    def action(conversation):
        (tag,) = tagging_services.tags_for_slugs([slug])
        tagging_services.remove_tag(conversation_id=conversation.pk, tag=tag, actor=request.user)
        return f"Removed {tag.name}."

    return _act(request, pk, action)


@login_required
@require_POST
def set_severity(request, pk):
    def action(conversation):
        name = request.POST.get("severity", "")
        if name not in SEVERITIES:
            raise ValueError(f"Severity is one of {', '.join(SEVERITIES)}.")
        tagging_services.set_severity(
            conversation_id=conversation.pk,
            severity=Severity.from_name(name),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
        return f"Severity set to {name}."

    return _act(request, pk, action)


@login_required
@require_POST
def assign(request, pk):
    def action(conversation):
        data = {"team": request.POST.get("team") or None, "reason": request.POST.get("reason", "")}
        if request.POST.get("assignee"):
            data["assignee"] = request.POST["assignee"]
        team, assignee = resolve_assignment(data, conversation)
        services.assign_conversation(
            conversation_id=conversation.pk,
            team=team,
            assignee=assignee,
            actor=request.user,
            reason=data["reason"],
        )
        who = assignee.username if assignee else "nobody"
        return f"Assigned to {team.name if team else 'no team'} / {who}."

    return _act(request, pk, action)


def _parse_until(raw: str):
    value = parse_datetime(raw or "")
    if value is None:
        raise ValueError("Snooze needs a date and time.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value


@login_required
@require_POST
def set_status(request, pk):
    def action(conversation):
        status = request.POST.get("status", "")
        if status not in Status.values:
            raise ValueError("Unknown status.")
        until = _parse_until(request.POST.get("until")) if status == Status.SNOOZED else None
        inbox_services.set_status(
            conversation_id=conversation.pk,
            status=status,
            actor=request.user,
            snoozed_until=until,
            reason=request.POST.get("reason", ""),
        )
        return f"Marked {Status(status).label.lower()}."

    return _act(request, pk, action)


# --- team lead board --------------------------------------------------------------------------


@login_required
@require_GET
def lead_board(request):
    """Per team: the unassigned queue, each agent's availability and open load, and overnight
    conversations, with a reassign-many form (to one agent or spread)."""
    if not can_bulk(request.user):
        raise PermissionDenied("The board is for leads and admins.")
    teams = (
        Team.objects.all()
        if request.user.is_admin_role
        else Team.objects.filter(memberships__user=request.user)
    ).order_by("name")
    board = []
    visible = selectors.conversation_base_for(request.user).select_related(
        "channel", "contact", "assignee"
    )
    for team in teams:
        agents = list(
            User.objects.filter(memberships__team=team, is_active=True)
            .exclude(role=User.Role.VIEWER)
            .order_by("username")
        )
        loads = services.open_loads([a.pk for a in agents])
        for agent in agents:
            agent.open_load = loads[agent.pk]
        team_qs = visible.filter(team=team)
        board.append(
            {
                "team": team,
                "agents": agents,
                "queue": list(
                    team_qs.filter(status=Status.OPEN, assignee__isnull=True)
                    .filter(arrived_outside_hours=False)
                    .order_by("-last_message_at")[:50]
                ),
                "overnight": list(
                    team_qs.filter(services.overnight_q()).order_by("created_at")[:200]
                ),
            }
        )
    return render(request, "ui/board.html", {"board": board, "now": timezone.now()})


# --- product team -----------------------------------------------------------------------------


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
        rows = page.paginate(qs, _Params(request, params), "-created_at")
        chart = _weekly_chart(qs)
        next_link = page.next_link()
    except ApiValidationError as exc:
        rows, chart, next_link, errors = [], None, None, _errors(exc)
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


# --- contacts and downloads ---------------------------------------------------------------------


@login_required
def attachment_download(request, pk):
    """Downloads only, never rendered inline: a hostile .html or .svg cannot run on our origin."""
    attachment = selectors.attachment_get_for_user(user=request.user, pk=pk)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name or "attachment",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def contact_page(request, pk):
    from accounts.permissions import can_merge_contacts

    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "inbox/contact.html",
        {"contact": contact, "can_merge": can_merge_contacts(request.user)},
    )


@login_required
@require_POST
def contact_merge(request, pk):
    from accounts.permissions import can_merge_contacts
    from inbox.contacts import MergeRefused, merge_contacts

    source = selectors.contact_get_for_user(user=request.user, pk=pk)
    target = selectors.contact_get_for_user(user=request.user, pk=request.POST.get("into", ""))
    try:
        merge_contacts(source_id=source.pk, target_id=target.pk, actor=request.user)
    except PermissionDenied:
        return HttpResponseForbidden("Only admins and leads may merge contacts.")
    except MergeRefused as exc:
        context = {"contact": source, "can_merge": can_merge_contacts(request.user)}
        return render(request, "inbox/contact.html", {**context, "error": str(exc)}, status=400)
    return redirect("inbox:contact", pk=target.pk)
