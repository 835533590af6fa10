"""WhatsApp message templates: the only messages WhatsApp lets a business send once the 24-hour
customer-service window is closed (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates).

Where they come from, merged by (name, language), the channel's own entries winning:

    Channel.config["whatsapp_templates"] = [
        {"name": "order_update", "language": "en_US", "body": "Hi {{1}}, order {{2}} shipped.",
         "header": "", "footer": "", "category": "UTILITY"}, ...]
    Channel.config["waba_id"]: the WhatsApp Business Account whose APPROVED templates are read
        from GET {graph}/{version}/{waba_id}/message_templates (Bearer access_token), through
        the SSRF guard, cached for WHATSAPP_TEMPLATES_CACHE_SECONDS (10 minutes).

Parameters are the body's placeholders: positional ({{1}}, {{2}}) or named ({{customer}}), given
in the order `parameters` lists them. Templates that need more than body text (a media header,
a header or button with a variable) are listed as unsupported, with the reason.

send_template() stores the rendered text as the message (what the thread shows) with the
template in Message.headers["template"]; delivery sends it through the template flow
(inbox.outbound.senders.meta_templates), which the window does not bind.
"""

import hashlib
import logging
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import safe_get
from core.errors import ActionRefused
from inbox import events, hooks, search, services
from inbox.models import Channel, Conversation, Message, Status
from inbox.outbound.replies import _touch_for_outbound

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
WABA_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_PARAMETER = 1024
MAX_PAGES = 5
# Statuses a conversation leaves when a template goes out: it is an agent re-engaging.
REOPENED_FROM = {Status.PENDING, Status.SNOOZED, Status.RESOLVED, Status.AUTOMATED}


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    body: str
    header: str = ""
    footer: str = ""
    category: str = ""
    source: str = "config"

    @property
    def parameters(self) -> list[str]:
        names = list(dict.fromkeys(PLACEHOLDER.findall(self.body)))
        if names and all(name.isdigit() for name in names):
            return sorted(names, key=int)
        return names

    @property
    def named(self) -> bool:
        return any(not name.isdigit() for name in self.parameters)

    def render(self, values: list[str]) -> str:
        """The text the customer reads: header, body with the values in, footer."""
        by_name = dict(zip(self.parameters, values, strict=True))
        body = PLACEHOLDER.sub(lambda m: by_name.get(m.group(1), m.group(0)), self.body)
        return "\n\n".join(part for part in (self.header, body, self.footer) if part)

    def as_dict(self) -> dict:
        return {**asdict(self), "parameters": self.parameters}


@dataclass
class Catalog:
    templates: list[Template]
    unsupported: list[dict]
    error: str = ""

    def find(self, name: str, language: str) -> Template | None:
        return next((t for t in self.templates if (t.name, t.language) == (name, language)), None)


def cache_seconds() -> int:
    return int(getattr(settings, "WHATSAPP_TEMPLATES_CACHE_SECONDS", 600))


def _from_config(channel: Channel) -> tuple[list[Template], list[dict]]:
    templates, unsupported = [], []
    entries = (channel.config or {}).get("whatsapp_templates") or []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("language"):
            unsupported.append({"name": str(entry)[:80], "reason": "needs a name and a language"})
            continue
        body = str(entry.get("body") or entry.get("text") or "")
        if not body.strip():
            unsupported.append({"name": entry["name"], "reason": "has no body text"})
            continue
        templates.append(
            Template(
                name=str(entry["name"]),
                language=str(entry["language"]),
                body=body,
                header=str(entry.get("header") or ""),
                footer=str(entry.get("footer") or ""),
                category=str(entry.get("category") or ""),
            )
        )
    return templates, unsupported


def _from_graph_entry(entry: dict) -> tuple[Template | None, str]:
    """A Graph API template as ours, or None and why it cannot be sent from here."""
    parts: dict[str, str] = {}
    for component in entry.get("components") or []:
        kind = str(component.get("type") or "").upper()
        text = str(component.get("text") or "")
        if kind == "HEADER":
            if str(component.get("format") or "TEXT").upper() != "TEXT":
                return None, "has a media header"
            if PLACEHOLDER.search(text):
                return None, "has a header with a variable"
            parts["header"] = text
        elif kind == "BODY":
            parts["body"] = text
        elif kind == "FOOTER":
            parts["footer"] = text
        elif kind == "BUTTONS":
            for button in component.get("buttons") or []:
                if PLACEHOLDER.search(str(button.get("url") or "")):
                    return None, "has a button with a variable"
    if not parts.get("body"):
        return None, "has no body text"
    return (
        Template(
            name=str(entry["name"]),
            language=str(entry["language"]),
            category=str(entry.get("category") or ""),
            source="graph",
            **parts,
        ),
        "",
    )


def _fetch(channel: Channel) -> tuple[list[Template], list[dict]]:
    """Every APPROVED template of the channel's WhatsApp Business Account, page by page.
    Raises LookupError with Meta's words when a page cannot be read."""
    config = channel.config or {}
    waba = str(config.get("waba_id") or "")
    if not WABA_ID.fullmatch(waba):
        raise LookupError(f"waba_id {waba[:40]!r} in the channel's config is not a valid id")
    base = settings.META_GRAPH_BASE_URL.rstrip("/")
    query = {"fields": "name,language,status,category,components", "limit": "100"}
    templates, unsupported = [], []
    for _page in range(MAX_PAGES):
        result = safe_get.get(
            f"{base}/{settings.META_GRAPH_API_VERSION}/{waba}/message_templates?"
            + urlencode(query),
            headers={"Authorization": f"Bearer {config.get('access_token', '')}"},
            max_bytes=2 * 1024 * 1024,
            timeout=8.0,
        )
        data = safe_get.json_of(result) if result.status_code == 200 else None
        if data is None or not isinstance(data.get("data"), list):
            raise LookupError(safe_get.failure(result, provider="Meta"))
        for entry in data["data"]:
            if not isinstance(entry, dict) or not entry.get("name") or not entry.get("language"):
                continue
            if str(entry.get("status") or "").upper() != "APPROVED":
                continue
            template, reason = _from_graph_entry(entry)
            if template is None:
                unsupported.append(
                    {"name": entry["name"], "language": entry["language"], "reason": reason}
                )
            else:
                templates.append(template)
        after = ((data.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (data.get("paging") or {}).get("next"):
            break
        query["after"] = str(after)
    return templates, unsupported


def _cache_key(channel: Channel) -> str:
    config = channel.config or {}
    # A new account id or token is a new list, not the old one for ten more minutes.
    digest = hashlib.sha256(
        f"{config.get('waba_id')}:{config.get('access_token')}".encode()
    ).hexdigest()[:16]
    return f"whatsapp-templates:{channel.pk}:{digest}"


def catalog(channel: Channel, *, refresh: bool = False) -> Catalog:
    """The templates an agent may send on `channel` (a Meta channel): its config's and, when
    it names a `waba_id`, the Graph API's (cached). A failed fetch leaves the config's list and
    says why in `error`; it is tried again after a minute."""
    templates, unsupported = _from_config(channel)
    error = ""
    if (channel.config or {}).get("waba_id") and channel.kind == Channel.Kind.META:
        key = _cache_key(channel)
        cached = None if refresh else cache.get(key)
        try:
            fetched_templates = [Template(**t) for t in cached["templates"]] if cached else []
        except (TypeError, KeyError):  # written by another version of this module
            cached = None
        if cached is None:
            try:
                fetched, skipped = _fetch(channel)
                cached = {
                    "templates": [asdict(t) for t in fetched],
                    "unsupported": skipped,
                    "error": "",
                }
                cache.set(key, cached, cache_seconds())
                fetched_templates = fetched
            except LookupError as exc:
                logger.warning("WhatsApp templates of channel %s: %s", channel.pk, exc)
                cached = {"templates": [], "unsupported": [], "error": str(exc)}
                cache.set(key, cached, 60)
                fetched_templates = []
        error = cached["error"]
        known = {(t.name, t.language) for t in templates}
        templates += [t for t in fetched_templates if (t.name, t.language) not in known]
        unsupported += cached["unsupported"]
    templates.sort(key=lambda t: (t.name, t.language))
    return Catalog(templates, unsupported, error)


def whatsapp_refusal(conversation: Conversation) -> str | None:
    """Why templates cannot go out on this conversation, or None: WhatsApp through the Cloud
    API (a Meta channel) only."""
    if conversation.channel.kind != Channel.Kind.META:
        return _(
            "Templates are sent on WhatsApp conversations only, through a WhatsApp Cloud API "
            "(Meta) channel."
        )
    from inbox.outbound.senders.http import latest_inbound

    last = latest_inbound(conversation)
    platform = (last.headers or {}).get("platform") if last else None
    if platform is None:
        kinds = set(conversation.contact.identities.values_list("kind", flat=True))
        platform = "whatsapp" if "whatsapp" in kinds else None
    if platform != "whatsapp":
        return _("Templates are sent on WhatsApp conversations only.")
    return None


def window_closes_at(conversation: Conversation):
    """When free-form replies stop being accepted (the customer's last message plus the
    window), or None when the customer never wrote."""
    from datetime import timedelta

    last = conversation.last_inbound_at
    return last + timedelta(hours=settings.SOCIAL_REPLY_WINDOW_HOURS) if last else None


def checked_parameters(template: Template, parameters: list[str]) -> list[str]:
    """The values, trimmed, when they fit the template; ActionRefused saying what is wrong."""
    wanted = template.parameters
    if len(parameters) != len(wanted):
        names = ", ".join("{{" + name + "}}" for name in wanted) or _("none")
        raise ActionRefused(
            _(
                "The template %(name)s (%(language)s) takes %(count)d parameter(s) (%(names)s); "
                "%(given)d given."
            )
            % {
                "name": template.name,
                "language": template.language,
                "count": len(wanted),
                "names": names,
                "given": len(parameters),
            }
        )
    values = []
    for name, value in zip(wanted, parameters, strict=True):
        value = str(value).strip()
        if not value:
            raise ActionRefused(_("Parameter {{%s}} is empty; fill it in.") % name)
        # WhatsApp refuses these in a parameter (error 132018).
        if "\n" in value or "\t" in value or "     " in value:
            raise ActionRefused(
                _(
                    "Parameter {{%s}} may not hold line breaks, tabs or more than four "
                    "spaces in a row (WhatsApp refuses them)."
                )
                % name
            )
        if len(value) > MAX_PARAMETER:
            raise ActionRefused(
                _("Parameter {{%(name)s}} is longer than %(max)d characters.")
                % {"name": name, "max": MAX_PARAMETER}
            )
        values.append(value)
    return values


def unknown_template(catalog_: Catalog, name: str, language: str) -> str:
    offered = ", ".join(f"{t.name} ({t.language})" for t in catalog_.templates) or _("none")
    words = _("No approved template %(name)s in %(language)s on this channel; it has: %(offered)s.")
    words %= {"name": name, "language": language, "offered": offered}
    if catalog_.error:
        words += " " + _("The list from Meta could not be read: %s") % catalog_.error
    return words


@transaction.atomic
def send_template(
    *, conversation_id: int, actor, template: Template, parameters: list[str]
) -> Message:
    """Queue a WhatsApp template to the customer, whatever the 24-hour window says.

    `template` comes from catalog() (read before this transaction: it may call the Graph API).
    Locks the conversation; refuses (ActionRefused) a conversation that is not WhatsApp, a
    blocked or spam one, and parameters that do not fit. Reopens the conversation (status open)
    when it was pending, snoozed, resolved or automated. The message holds the rendered text and
    Message.headers["template"]; it is stored `queued` and sent after commit. Emits
    message.created; runs `agent_replied`, as a reply does.
    """
    conversation = services.lock_for_change(
        conversation_id=conversation_id,
        actor=actor,
        refusal=_("You may not reply to this conversation."),
        related=("channel", "contact"),
    )
    refusal = whatsapp_refusal(conversation)
    if refusal:
        raise ActionRefused(refusal)
    if conversation.status in (Status.BLOCKED, Status.SPAM):
        raise ActionRefused(
            _("This conversation is %s: take it out of there before writing to the customer.")
            % conversation.get_status_display().lower()
        )
    values = checked_parameters(template, parameters)
    if conversation.status in REOPENED_FROM:
        services.set_status(
            conversation_id=conversation.pk,
            status=Status.OPEN,
            actor=actor,
            reason=_("WhatsApp template %s sent") % template.name,
        )
        conversation.refresh_from_db()
    now = timezone.now()
    text = template.render(values)
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUT,
        kind=Message.Kind.MESSAGE,
        sender_user=actor,
        text=text,
        headers={
            "template": {
                "name": template.name,
                "language": template.language,
                "parameters": values,
                "parameter_names": template.parameters if template.named else [],
            }
        },
        delivery_status=Message.DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    fields = _touch_for_outbound(conversation, message)
    conversation.last_outbound_at = now
    fields.append("last_outbound_at")
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        fields.append("first_response_at")
    conversation.save(update_fields=fields)
    search.index_text(conversation_id=conversation.pk, text=text)
    hooks.run("agent_replied", conversation=conversation, message=message)
    events.publish(
        "message.created",
        conversation=conversation,
        actor=actor,
        data={"message": message.pk, "direction": message.direction, "kind": message.kind},
    )
    from inbox.outbound.delivery import enqueue_delivery

    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message
