"""Small presentation helpers for the agents' pages."""

import datetime as dt

from django import template

from inbox import quoting, titles
from inbox.models import SEVERITY_WORDS

register = template.Library()

SLA_WARNING = dt.timedelta(hours=1)
# Small monochrome icons drawn for this project (16x16, currentColor): emoji show as empty boxes
# where the system has no emoji font (Debian's chromium). Meta channels carry one kind for
# Messenger, Instagram and WhatsApp; the named shapes serve them when the platform is known.
_ENVELOPE = '<rect x="1.5" y="3.5" width="13" height="9" rx="1"/><path d="M1.5 4.5 8 9l6.5-4.5"/>'
_BUBBLE = '<path d="M2.5 3.5h11v7h-6l-3 2.5v-2.5h-2z"/>'
CHANNEL_SHAPES = {
    "email": _ENVELOPE,
    "chat": _BUBBLE,
    "meta": '<path d="M8 2.5c3.3 0 5.5 2.2 5.5 5s-2.2 5-5.5 5l-3 1.5v-2.3c-1.3-.9-2-2.4-2-4.2'
    ' 0-2.8 2.2-5 5-5z"/><path d="m5.5 9 2-2 1.5 1.5 2-2"/>',
    "messenger": '<path d="M8 2.5c3.3 0 5.5 2.2 5.5 5s-2.2 5-5.5 5l-3 1.5v-2.3c-1.3-.9-2-2.4-2-4.2'
    ' 0-2.8 2.2-5 5-5z"/><path d="m5.5 9 2-2 1.5 1.5 2-2"/>',
    "instagram": '<rect x="2" y="2" width="12" height="12" rx="3.5"/><circle cx="8" cy="8" r="2.8"/>'
    '<circle cx="11.6" cy="4.4" r=".5"/>',
    "whatsapp": '<path d="M3 13.5l.8-2.6A5.5 5.5 0 1 1 6 13z"/><path d="M6 6.2c.3 1.8 1.6 3.2 3.6'
    ' 3.6"/>',
    "telegram": '<path d="M14 2.5 1.8 7.3l3.7 1.4L12 4.5 7 9.8l5 3.7z"/><path d="m5.5 8.7.7 4 1.6-2"/>',
    "x": '<path d="M3 2.5 13 13.5M13 2.5 3 13.5"/>',
    "twilio": '<rect x="4" y="1.5" width="8" height="13" rx="1.5"/><path d="M7 12.5h2"/>',
    "sms": '<rect x="4" y="1.5" width="8" height="13" rx="1.5"/><path d="M7 12.5h2"/>',
    "api": '<path d="m5.5 4.5-3.5 3.5 3.5 3.5M10.5 4.5 14 8l-3.5 3.5M9 3 7 13"/>',
}
CHANNEL_NAMES = {
    "email": "Email",
    "chat": "Live chat",
    "meta": "Meta",
    "messenger": "Messenger",
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "x": "X",
    "twilio": "SMS",
    "sms": "SMS",
    "api": "API",
}
_DOT = '<circle cx="8" cy="8" r="2.5"/>'


def channel_svg(kind: str) -> str:
    """The channel's icon as inline SVG, hidden from assistive tools, followed by its name in
    visually hidden text (the icon alone must not be the only place the channel is said)."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    shape = CHANNEL_SHAPES.get(kind, _DOT)
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"'
        ' focusable="false">{}</svg><span class="visually-hidden">{}</span>',
        kind,
        mark_safe(shape),  # noqa: S308 - our own constant shapes above, never user input
        CHANNEL_NAMES.get(kind, kind),
    )


@register.filter
def sla_due(conversation):
    """The SLA time that matters now: the first response, else the next one."""
    return conversation.first_response_due or conversation.next_response_due


@register.simple_tag
def sla_state(conversation, now) -> str:
    """ok, warning (amber: under an hour left) or breached (red)."""
    due = sla_due(conversation)
    if conversation.sla_breached or (due is not None and due <= now):
        return "breached"
    if due is not None and due - now <= SLA_WARNING:
        return "warning"
    return "ok" if due is not None else ""


def sla_left(delta: dt.timedelta) -> str:
    """Time left in the list's words, the same as the page's script writes every tick (app.js
    formatLeft): "25 min", "3 h 5 min", "4 days"."""
    from django.utils.translation import gettext as _

    minutes = round(delta.total_seconds() / 60)
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes % 60}
    return _("%(d)s days") % {"d": hours // 24}


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
        "icon": channel_svg(c.channel.kind),
        "kind": c.channel.get_kind_display(),
        "initials": initials(c.assignee) if c.assignee_id else "",
        "due": due.isoformat() if due else "",
        "sla": state,
        "left": "breached" if state == "breached" else (sla_left(due - now) if due else ""),
        "unread": unread,
    }


# Other small icons, drawn the same way; decorative (the control beside them has the words).
ICON_SHAPES = {
    "paperclip": '<path d="M13 7.5 8 12.5a3.2 3.2 0 0 1-4.5-4.5L9 2.5a2.1 2.1 0 0 1 3 3L6.6 11a1'
    ' 1 0 0 1-1.5-1.5L10 4.6"/>',
    # A person: the avatar of someone known only by a number or a handle without letters.
    "person": '<circle cx="8" cy="5.5" r="2.7"/><path d="M2.8 13.8c.6-2.7 2.7-4.3 5.2-4.3s4.6 1.6'
    ' 5.2 4.3"/>',
}


@register.filter
def icon(name: str) -> str:
    """A decorative icon of ICON_SHAPES as inline SVG, hidden from assistive tools."""
    from django.utils.html import format_html
    from django.utils.safestring import mark_safe

    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true"'
        ' focusable="false">{}</svg>',
        name,
        mark_safe(ICON_SHAPES[name]),  # noqa: S308 - our own constant shapes, never user input
    )


@register.filter
def channel_icon(kind: str) -> str:
    return channel_svg(kind)


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
    if isinstance(value, dict) and "macro" in value and "changes" in value:
        from routing.macros import describe

        steps = "; ".join(describe(c) for c in value["changes"] if isinstance(c, dict))
        return f"“{value['macro']}”: {steps or '—'}"
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


# --- times: one format, in the agent's zone (accounts.middleware), kept live by static/js/times.js


def stamp_text(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """The one way a moment is written: "Mon 7 Dec, 13:01" this year, "7 Dec 2025, 13:01" before,
    in the active (the agent's) time zone. times.js writes the same."""
    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    # Django's day and month names, in the active (the agent's) language.
    local = timezone.localtime(value)
    this_year = timezone.localtime(now or timezone.now()).year
    if local.year == this_year:
        return date_format(local, "D j M, H:i")
    return date_format(local, "j M Y, H:i")


def ago_text(value: dt.datetime, now: dt.datetime) -> str:
    """How long ago, as times.js writes it every minute: "just now", "3 min ago", "5 h ago",
    "2 days ago", then the date itself after a week."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    seconds = (now - value).total_seconds()
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return _("%(m)s min ago") % {"m": minutes}
    if minutes < 24 * 60:
        return _("%(h)s h ago") % {"h": minutes // 60}
    days = minutes // (24 * 60)
    if days < 7:
        return ngettext("%(d)s day ago", "%(d)s days ago", days) % {"d": days}
    return stamp_text(value, now)


@register.filter
def stamp(value):
    """<time> with the moment in the one format (times.js re-writes it in the same words)."""
    from django.utils.html import format_html

    if not value:
        return ""
    from django.utils import timezone

    return format_html(
        '<time datetime="{}" data-stamp>{}</time>',
        timezone.localtime(value).isoformat(),
        stamp_text(value),
    )


@register.filter
def ago(value, now=None):
    """<time> saying how long ago, with the moment itself as its title; times.js keeps it live."""
    from django.utils import timezone
    from django.utils.html import format_html

    if not value:
        return ""
    now = now or timezone.now()
    return format_html(
        '<time datetime="{}" data-relative title="{}">{}</time>',
        timezone.localtime(value).isoformat(),
        stamp_text(value, now),
        ago_text(value, now),
    )


@register.filter
def recent(value, now=None):
    """A message's time in the thread's meta line: how long ago while under a day ("5 min ago",
    "2 h ago"), then the clock time (the day separator above says which day); the moment itself
    in the title and the datetime. times.js keeps it live (data-relative="clock")."""
    from django.utils import timezone
    from django.utils.dateformat import format as date_format
    from django.utils.html import format_html

    if not value:
        return ""
    now = now or timezone.now()
    text = ago_text(value, now) if now - value < dt.timedelta(days=1) else ""
    return format_html(
        '<time datetime="{}" data-relative="clock" title="{}">{}</time>',
        timezone.localtime(value).isoformat(),
        stamp_text(value, now),
        text or date_format(timezone.localtime(value), "H:i"),
    )


@register.filter
def clock(value):
    """<time> with the clock time alone ("15:07"), the whole moment in its title (times.js)."""
    from django.utils import timezone
    from django.utils.dateformat import format as date_format
    from django.utils.html import format_html

    if not value:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" data-clock title="{}">{}</time>',
        local.isoformat(),
        stamp_text(value),
        date_format(local, "H:i"),
    )


@register.simple_tag
def thread_entries(messages, contact):
    """workspace.thread.thread_entries: the thread's day separators and message groups."""
    from workspace.thread import thread_entries as entries

    return entries(messages, contact=contact)


@register.filter
def severity_word(name) -> str:
    """A severity's name ("high") as the reader's language writes it; the name stays the value."""
    return SEVERITY_WORDS.get(str(name), name)
