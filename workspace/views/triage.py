"""The conversation's triage panel (tags, severity, team and agent, status, snooze) as one htmx
partial: each triage form posts to its usual URL, and under htmx gets this panel back with the
header line and the flash messages swapped out of band, so nothing reloads. Without JavaScript the
same forms post and redirect as before."""

import datetime as dt
import functools
import json
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Membership
from accounts.permissions import can_write
from inbox import selectors, titles
from inbox.models import SEVERITY_WORDS, Activity, Event, Status
from routing.macros import macros_for
from tagging.selectors import suggested_tags_for
from workspace.views.common import agents_with_load, write_context

SNOOZE_PRESETS = {"1h": "in 1 hour", "tomorrow": "tomorrow 9:00", "monday": "next Monday 9:00"}


def agent_zone(raw: str | None) -> ZoneInfo:
    """The agent's time zone as the browser reports it (the snooze form's `tz`), else UTC."""
    try:
        return ZoneInfo(raw) if raw else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(_("Unknown time zone %(zone)r.") % {"zone": raw}) from None


def snooze_until(*, preset: str, raw: str, tz: str | None, now: dt.datetime) -> dt.datetime:
    """When a snooze ends: a preset ("in 1 hour", "tomorrow 9:00", "next Monday 9:00") reckoned
    on the agent's own clock, or the custom date and time read in their zone."""
    zone = agent_zone(tz)
    local = now.astimezone(zone)
    nine = dt.time(9, 0)
    if preset == "1h":
        return now + dt.timedelta(hours=1)
    if preset == "tomorrow":
        day = local.date() + dt.timedelta(days=1)
    elif preset == "monday":
        day = local.date() + dt.timedelta(days=(7 - local.weekday()) or 7)
    elif preset:
        raise ValueError(_("Pick one of the snooze times or give a date and time."))
    else:
        value = parse_datetime(raw or "")
        if value is None:
            raise ValueError(_("Snooze needs a date and time."))
        return value if timezone.is_aware(value) else value.replace(tzinfo=zone)
    return dt.datetime.combine(day, nine, tzinfo=zone)


def _team_for_me(user, conversation) -> str:
    """The team "Assign to me" keeps: the conversation's when I am in it, else my first team."""
    mine = list(
        Membership.objects.filter(user=user)
        .order_by("team__name")
        .values_list("team_id", "team__slug")
    )
    for team_id, slug in mine:
        if team_id == conversation.team_id:
            return slug
    return mine[0][1] if mine else ""


def triage_context(request, conversation, *, undo_status: str | None = None) -> dict:
    """What the triage panel shows. Undo is offered right after a resolve: `undo_status` (the
    status before it) from the htmx action, or, on a full page, a resolve within the window."""
    window = settings.RESOLVE_UNDO_SECONDS
    undo_ms = window * 1000
    if undo_status is None and conversation.status == Status.RESOLVED and conversation.resolved_at:
        left = window - (timezone.now() - conversation.resolved_at).total_seconds()
        if left > 0.5:
            undo_status, undo_ms = Status.OPEN, int(left * 1000)
    return {
        "conversation": conversation,
        "conversation_tags": list(conversation.tags.all()),
        # Called by the template where the panel shows them (learned and rule suggestions).
        "suggested_tags": functools.partial(suggested_tags_for, conversation),
        "activity": Activity.objects.filter(conversation=conversation)
        .select_related("actor")
        .order_by("created_at", "id"),
        # Called by the template only where the assignment part is drawn (the loads' count).
        "agents": _agents_for_assigning,
        "my_team_for_conversation": functools.partial(_team_for_me, request.user, conversation),
        # Called by the template where the contact card is drawn (not by the live parts).
        "others": functools.partial(_others_for, request.user, conversation),
        "undo_status": undo_status,
        "undo_ms": undo_ms,
        "undo_seconds": window,
        **write_context(request),
        "macros": macros_for(user=request.user).order_by("name", "pk"),
    }


def _others_for(user, conversation) -> list:
    """The contact's other conversations the agent may see, newest first (the contact card)."""
    return titles.attach_titles(
        selectors.conversation_base_for(user)
        .filter(contact_id=conversation.contact_id)
        .exclude(pk=conversation.pk)
        .select_related("channel")
        .order_by("-last_message_at")[:20]
    )


def _agents_for_assigning():
    agents = agents_with_load()
    for agent in agents:
        agent.team_slugs = " ".join(t.slug for t in agent.teams.all())
    return agents


# The panel's parts a form swaps by itself (its hx-target, sent as HX-Target): the response
# draws only that part, so a severity change does not count every agent's open conversations.
TRIAGE_PARTS = {
    "tags-panel": "ui/_triage_tags.html",
    "severity-form": "ui/_triage_severity.html",
    "assign-panel": "ui/_triage_assign.html",
    "status-panel": "ui/_triage_status.html",
}


def events_through(conversation_id: int) -> int:
    """The newest event of this conversation. Read before the conversation is: a panel drawn
    after it shows every change up to it, so the page skips the live feed's events it already
    shows (static/js/triage.js). Read after, it could name a colleague's change committed while
    the panel was drawn, which the page would then never fetch."""
    newest = (
        Event.objects.filter(conversation_id=conversation_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return newest or 0


def triage_response(request, conversation, *, through: int, undo_status: str | None = None):
    """The part of the panel that was posted (or all of it), the header line and the flash
    messages, for htmx; HX-Trigger names the conversation, the parts drawn and the newest event
    they show (`through`: events_through() read before `conversation` was), so a list row on the
    page (and the sidebar counts) follow, once."""
    context = triage_context(request, conversation, undo_status=undo_status)
    context["triage_oob"] = True  # the activity list follows whichever part was swapped
    target = request.htmx.target if request.htmx else None
    context["triage_part"] = TRIAGE_PARTS.get(target)
    response = render(request, "ui/_triage_response.html", context)
    changed = {
        "id": conversation.pk,
        "events_through": through,
        "parts": [target] if context["triage_part"] else list(TRIAGE_PARTS),
    }
    response["HX-Trigger"] = json.dumps({"conversation-changed": changed})
    return response


@login_required
@require_GET
def triage_parts(request, pk):
    """Parts of the panel (`?part=severity-form`, repeatable; all of them without), the activity
    list and the header line, drawn afresh: the page asks when a colleague's change reaches it
    through the live feed. The header X-Events-Through names the newest event they show."""
    through = events_through(pk)  # first: see events_through
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    # A read-only role sees the tags, not the forms of the other parts.
    allowed = list(TRIAGE_PARTS) if can_write(request.user) else ["tags-panel"]
    asked = set(request.GET.getlist("part")) & set(allowed) or set(allowed)
    context = triage_context(request, conversation)
    context["parts"] = [TRIAGE_PARTS[p] for p in allowed if p in asked]  # the panel's order
    context["news"] = triage_news(request.user, pk, request.GET.getlist("event"))
    response = render(request, "ui/_triage_parts.html", context)
    response["X-Events-Through"] = str(through)
    response["Cache-Control"] = "no-store"
    return response


def tag_for_name_or_slug(typed: str):
    """The tag an agent typed into "Add tag": its name (any case) or its slug."""
    from tagging.models import Tag

    tag = Tag.objects.filter(slug=typed).first() or Tag.objects.filter(name__iexact=typed).first()
    if tag is None:
        raise ValueError(
            _("There is no tag called %(tag)r. Pick one from the list.") % {"tag": typed}
        )
    return tag


# Events the page asks about (`?event=`, the live feed's ids that made it fetch), at most these.
NEWS_LIMIT = 20


def triage_news(user, conversation_id: int, asked: list[str]) -> list[dict]:
    """A colleague's changes in words, for the page to announce (static/js/triage.js puts them in
    its polite live region): "Budi set severity to high", "Budi assigned this to Alice". Each
    comes with `value`, the new value alone, for the note beside a control the agent is using."""
    ids = sorted({int(i) for i in asked if i.isdigit()})[:NEWS_LIMIT]
    if not ids:
        return []
    from django.contrib.auth import get_user_model

    from accounts.models import Team
    from tagging.models import Tag

    events = list(Event.objects.filter(conversation_id=conversation_id, pk__in=ids).order_by("pk"))
    people = get_user_model().objects.filter(pk__in={e.actor_id for e in events if e.actor_id})
    names = {p.pk: p.display_name for p in people}
    slugs = set()
    usernames = set()
    for e in events:
        if e.type == "conversation.tagged":
            slugs.update(e.payload.get("tags") or [])
        elif e.type == "conversation.untagged":
            slugs.add(e.payload.get("tag"))
        elif e.type == "conversation.assigned":
            usernames.add((e.payload.get("after") or {}).get("assignee"))
    tags = dict(Tag.objects.filter(slug__in=slugs - {None}).values_list("slug", "name"))
    assignees = {
        p.username: p for p in get_user_model().objects.filter(username__in=usernames - {None})
    }
    team_slugs = {(e.payload.get("after") or {}).get("team") for e in events}
    teams = dict(Team.objects.filter(slug__in=team_slugs - {None}).values_list("slug", "name"))
    news = []
    for e in events:
        actor = names.get(e.actor_id) if e.actor_id else None
        for text, value in _describe(e, actor, user, tags=tags, assignees=assignees, teams=teams):
            news.append({"event": e.pk, "text": text, "value": value})
    return news


def _describe(event, actor, user, *, tags, assignees, teams):
    """(sentence, value) pairs for one event; nothing for what the panel does not show."""
    payload = event.payload or {}
    changes = payload.get("changes") or {}
    if event.type == "conversation.updated" and isinstance(changes, dict):
        if "severity" in changes:
            word = SEVERITY_WORDS.get(str(changes["severity"][-1]), changes["severity"][-1])
            yield (
                _("%(actor)s set severity to %(severity)s.") % {"actor": actor, "severity": word}
                if actor
                else _("Severity changed to %(severity)s.") % {"severity": word},
                str(word),
            )
        if "status" in changes:
            yield _status_news(changes["status"][-1], actor, changes.get("snoozed_until"))
    elif event.type == "conversation.assigned":
        after = payload.get("after") or {}
        person = assignees.get(after.get("assignee"))
        team = teams.get(after.get("team"), after.get("team"))
        if person is not None:
            whom = _("you") if person.pk == user.pk else person.display_name
            yield (
                _("%(actor)s assigned this to %(assignee)s.") % {"actor": actor, "assignee": whom}
                if actor
                else _("Assigned to %(assignee)s.") % {"assignee": whom},
                person.display_name,
            )
        elif team:
            yield (
                _("%(actor)s moved this to the team %(team)s, unassigned.")
                % {"actor": actor, "team": team}
                if actor
                else _("Moved to the team %(team)s, unassigned.") % {"team": team},
                _("%(team)s, unassigned") % {"team": team},
            )
        else:
            yield (
                _("%(actor)s unassigned this.") % {"actor": actor} if actor else _("Unassigned."),
                _("Unassigned"),
            )
    elif event.type == "conversation.tagged":
        for slug in payload.get("tags") or []:
            name = tags.get(slug, slug)
            yield (
                _("%(actor)s added the tag %(tag)s.") % {"actor": actor, "tag": name}
                if actor
                else _("Tag %(tag)s added.") % {"tag": name},
                "+ " + name,
            )
    elif event.type == "conversation.untagged":
        name = tags.get(payload.get("tag"), payload.get("tag"))
        yield (
            _("%(actor)s removed the tag %(tag)s.") % {"actor": actor, "tag": name}
            if actor
            else _("Tag %(tag)s removed.") % {"tag": name},
            "\N{MINUS SIGN} " + str(name),
        )
    elif event.type == "macro.ran":
        name = payload.get("name") or ""
        yield (
            _("%(actor)s ran the macro %(macro)s.") % {"actor": actor, "macro": name}
            if actor
            else _("The macro %(macro)s ran.") % {"macro": name},
            name,
        )


def _status_news(status: str, actor: str | None, until: str | None) -> tuple[str, str]:
    from workspace.templatetags.ui import stamp_text

    word = Status(status).label if status in Status.values else status
    if status == Status.SNOOZED and until:
        moment = parse_datetime(until)
        when = stamp_text(moment) if moment else until
        return (
            _("%(actor)s snoozed this until %(until)s.") % {"actor": actor, "until": when}
            if actor
            else _("Snoozed until %(until)s.") % {"until": when},
            str(word),
        )
    if status == Status.RESOLVED:
        text = _("%(actor)s resolved this.") if actor else _("Resolved.")
    elif status == Status.OPEN:
        text = _("%(actor)s reopened this.") if actor else _("Reopened.")
    else:
        text = (
            _("%(actor)s set the status to %(status)s.")
            if actor
            else _("Status changed to %(status)s.")
        )
    return text % {"actor": actor, "status": word}, str(word)
