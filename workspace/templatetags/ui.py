"""Small presentation helpers for the agents' pages."""

import datetime as dt

from django import template

from inbox import quoting, titles

register = template.Library()

SLA_WARNING = dt.timedelta(minutes=30)
CHANNEL_ICONS = {
    "email": "✉",
    "chat": "💬",
    "messenger": "Ⓜ",
    "instagram": "◎",
    "whatsapp": "☏",
    "telegram": "✈",
    "x": "X",
    "sms": "▤",
    "api": "⚙",
}


@register.filter
def sla_due(conversation):
    """The SLA time that matters now: the first response, else the next one."""
    return conversation.first_response_due or conversation.next_response_due


@register.simple_tag
def sla_state(conversation, now) -> str:
    """ok, warning (amber: under 30 minutes left) or breached (red)."""
    due = sla_due(conversation)
    if conversation.sla_breached or (due is not None and due <= now):
        return "breached"
    if due is not None and due - now <= SLA_WARNING:
        return "warning"
    return "ok" if due is not None else ""


def sla_left(delta: dt.timedelta) -> str:
    """Time left in the list's words, the same as the page's script writes every tick (app.js
    formatLeft): "25 min", "3 h 5 min", "4 days"."""
    minutes = round(delta.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} days"


def row_view(conversation, now, *, unread: bool = False) -> dict:
    """What a list row shows, worked out once in Python rather than by template filters per
    cell: title (inbox.titles), SLA state and countdown, icon, initials, link and whether a
    customer message waits unread by this agent (inbox.reads)."""
    from django.urls import reverse

    c = conversation
    # inbox.titles.attach_titles sets it for a page at once; never the snippet (our own reply).
    title = getattr(c, "title", None) or titles.title_for(c.subject, None)
    due = sla_due(c)
    state = sla_state(c, now)
    return {
        "url": reverse("ui:conversation", args=[c.pk]),
        "title": title,
        "icon": CHANNEL_ICONS.get(c.channel.kind, "•"),
        "kind": c.channel.get_kind_display(),
        "initials": initials(c.assignee) if c.assignee_id else "",
        "due": due.isoformat() if due else "",
        "sla": state,
        "left": "breached" if state == "breached" else (sla_left(due - now) if due else ""),
        "unread": unread,
    }


@register.filter
def channel_icon(kind: str) -> str:
    return CHANNEL_ICONS.get(kind, "•")


@register.filter
def initials(user) -> str:
    name = user.display_name if user else ""
    return "".join(part[0] for part in name.split()[:2]).upper() or "?"


@register.filter
def contact_initials(contact) -> str:
    name = str(contact).split("@")[0]
    return "".join(part[0] for part in name.split()[:2] if part[0].isalnum()).upper() or "?"


@register.filter
def activity_value(value) -> str:
    """An audit value in words: {"team": "support", "assignee": "bob"} -> "team support, bob"."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            parts.append(f"{key} {item if item not in (None, '') else 'none'}")
        return ", ".join(parts)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


@register.filter
def folded(message) -> dict:
    """inbox.quoting.folded: the same split as the message API's `folded`."""
    return quoting.folded(message)
