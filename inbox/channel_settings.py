"""Channels set up in the app, not the Django admin: one field schema per provider (asking only
what that provider needs), strong generated secrets shown once, rotation, disabling that keeps the
history, and a connection test per provider. The settings pages (workspace) and the REST twin
(inbox.api_channels) call these functions and nothing else.

Values travel flat, one per schema field: "secret" is Channel.secret, "address" is
Channel.address, every other name is a key of Channel.config. Errors are keyed by those names, so
the form or the API can say which field is wrong.

The connection tests and the secret hand-over to a provider need a wing's transport (the Bot API,
IMAP, SMTP, the webhook door), which the conversation core may not import: the wings register
them here from inbox.apps (register_probe, register_secret_push)."""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inbox import events
from inbox.models import Channel

SECRET_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # a lazy translation
    required: bool = False
    sensitive: bool = False  # write-only: never shown again, blank on update keeps it
    generated: bool = False  # we make it (secrets.token_urlsafe) unless one is given
    kind: str = "text"  # text, email, url, number, lines, choice
    choices: tuple[str, ...] = ()
    help: object = ""
    words: tuple[tuple[str, object], ...] = ()  # a choice's words on the page, when not itself

    @property
    def options(self) -> list[tuple[str, object]]:
        shown = dict(self.words)
        return [(c, shown.get(c, c)) for c in self.choices]


def _f(name, label, **kw) -> Field:
    return Field(name, label, **kw)


SCHEMA: dict[str, list[Field]] = {
    Channel.Kind.TELEGRAM: [
        _f("bot_token", gettext_lazy("Bot token (from @BotFather)"), required=True, sensitive=True),
        _f(
            "secret",
            gettext_lazy("Webhook secret token"),
            sensitive=True,
            generated=True,
            help=gettext_lazy("Generated; Telegram sends it back with every update."),
        ),
        _f("address", gettext_lazy("Bot username")),
    ],
    Channel.Kind.META: [
        _f("secret", gettext_lazy("App secret"), required=True, sensitive=True),
        _f("access_token", gettext_lazy("Access token"), required=True, sensitive=True),
        _f(
            "verify_token",
            gettext_lazy("Verify token"),
            sensitive=True,
            generated=True,
            help=gettext_lazy("Generated; paste it into the app's webhook settings."),
        ),
        _f("page_id", gettext_lazy("Page id")),
        _f("instagram_id", gettext_lazy("Instagram account id")),
        _f("phone_number_id", gettext_lazy("WhatsApp phone number id")),
    ],
    Channel.Kind.TWILIO: [
        _f("account_sid", gettext_lazy("Account SID"), required=True),
        _f("secret", gettext_lazy("Auth token"), required=True, sensitive=True),
        _f("address", gettext_lazy("Phone number (E.164)"), required=True),
    ],
    Channel.Kind.X: [
        _f("secret", gettext_lazy("Consumer secret"), required=True, sensitive=True),
        _f("access_token", gettext_lazy("Access token"), required=True, sensitive=True),
        _f("account_id", gettext_lazy("Account id")),
    ],
    Channel.Kind.API: [
        _f("secret", gettext_lazy("Signing secret"), sensitive=True, generated=True),
        _f(
            "callback_url",
            gettext_lazy("Callback URL for replies"),
            kind="url",
            help=gettext_lazy("http or https, a public address; replies are POSTed there."),
        ),
    ],
    Channel.Kind.EMAIL: [
        _f("address", gettext_lazy("Mailbox address"), required=True, kind="email"),
        _f(
            "secret",
            gettext_lazy("Raw mail webhook secret"),
            sensitive=True,
            generated=True,
        ),
        _f("imap_host", gettext_lazy("IMAP host")),
        _f("imap_port", gettext_lazy("IMAP port"), kind="number"),
        _f(
            "imap_security",
            gettext_lazy("IMAP security"),
            kind="choice",
            choices=("ssl", "starttls", "none"),
            words=(
                ("ssl", gettext_lazy("SSL/TLS")),
                ("starttls", gettext_lazy("STARTTLS")),
                ("none", gettext_lazy("None (unencrypted)")),
            ),
        ),
        _f("imap_username", gettext_lazy("IMAP user name")),
        _f("imap_password", gettext_lazy("IMAP password"), sensitive=True),
    ],
    Channel.Kind.CHAT: [
        _f(
            "allowed_origins",
            gettext_lazy("Sites allowed to embed the chat"),
            kind="lines",
            help=gettext_lazy("One origin a line, like https://www.example.com"),
        ),
    ],
}
# Kinds whose webhook door checks a signature made with Channel.secret: without one every
# delivery fails. (An email channel may live on IMAP or an ESP only; a chat channel has none.)
SIGNED_KINDS = {Channel.Kind.API, Channel.Kind.META, Channel.Kind.TELEGRAM}
SIGNED_KINDS |= {Channel.Kind.TWILIO, Channel.Kind.X}
# IMAP lives in config["imap"] (inbox.intake.doors.email); the form shows its keys flat.
IMAP_KEYS = {"imap_host": "host", "imap_port": "port", "imap_security": "security"}
IMAP_KEYS |= {"imap_username": "username", "imap_password": "password"}
WEBHOOK_ROUTES = {
    Channel.Kind.TELEGRAM: "webhooks:telegram",
    Channel.Kind.META: "webhooks:meta",
    Channel.Kind.TWILIO: "webhooks:twilio",
    Channel.Kind.X: "webhooks:x",
    Channel.Kind.API: "webhooks:api",
    Channel.Kind.EMAIL: "webhooks:email-raw",
}


@dataclass
class Check:
    """One step of a connection test: "getMe", "setWebhook", "IMAP login", ..."""

    step: str
    ok: bool
    detail: str = ""


@dataclass
class Setup:
    """A channel just saved, with the secrets generated for it (shown this once)."""

    channel: Channel
    generated: dict[str, str] = field(default_factory=dict)


# kind -> probes(channel, webhook_url) -> [Check]; kind -> push(channel, url, secret) -> error
_probes: dict[str, list[Callable[[Channel, str], list[Check]]]] = {}
_secret_pushes: dict[str, Callable[[Channel, str, str], str | None]] = {}


def register_probe(kind: str, probe: Callable[[Channel, str], list[Check]]) -> None:
    if probe not in _probes.setdefault(kind, []):
        _probes[kind].append(probe)


def register_secret_push(kind: str, push: Callable[[Channel, str, str], str | None]) -> None:
    """`push` tells the provider a new secret before it is stored (Telegram's setWebhook): an
    error string refuses the rotation, so the provider and we never disagree."""
    _secret_pushes[kind] = push


# Every kind: the language the product's own messages to the channel's customers are written
# in when the contact's is not known (inbox.languages); blank: the site's.
LANGUAGE = _f(
    "language",
    gettext_lazy("Customers' language"),
    kind="choice",
    choices=tuple(code for code, _name in settings.LANGUAGES),
    help=gettext_lazy("For the product's own messages when a customer's language is not known."),
)


def fields_for(kind: str) -> list[Field]:
    return [*SCHEMA[kind], LANGUAGE] if kind in SCHEMA else []


def has_connection_test(kind: str) -> bool:
    return bool(_probes.get(kind))


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def webhook_url(channel: Channel) -> str:
    """The exact URL to paste into the provider ("" for chat, reached by its public key)."""
    route = WEBHOOK_ROUTES.get(channel.kind)
    if not route:
        return ""
    try:
        path = reverse(route, kwargs={"channel": channel.slug})
    except NoReverseMatch:
        return ""
    base = settings.PUBLIC_BASE_URL
    if channel.kind == Channel.Kind.TWILIO and settings.TWILIO_WEBHOOK_BASE_URL:
        base = settings.TWILIO_WEBHOOK_BASE_URL  # the URL Twilio signs (docs/channels.md)
    return f"{base.rstrip('/')}{path}"


def current_values(channel: Channel) -> dict:
    """The values a form shows: every schema field except the sensitive ones."""
    out = {}
    for f in fields_for(channel.kind):
        if f.sensitive:
            continue
        value = _read(channel, f.name)
        out[f.name] = "\n".join(value) if isinstance(value, list) else value
    return out


def configured(channel: Channel) -> dict[str, bool]:
    """Which sensitive fields hold a value (shown as "set", never the value)."""
    return {f.name: bool(_read(channel, f.name)) for f in fields_for(channel.kind) if f.sensitive}


def _read(channel: Channel, name: str):
    if name == "secret":
        return channel.secret
    if name == "address":
        return channel.address
    config = channel.config or {}
    if name in IMAP_KEYS:
        return (config.get("imap") or {}).get(IMAP_KEYS[name], "")
    return config.get(name, "")


def _require_admin(actor) -> None:
    from accounts.permissions import can_administer

    if not can_administer(actor):
        raise PermissionDenied(_("Only admins may set up channels."))


def _clean(kind: str, values: dict, *, channel: Channel | None) -> tuple[dict, dict[str, str]]:
    """Validate `values` against the schema; return (cleaned, generated). Raise ValidationError
    keyed by field name. On update (`channel` given) a blank sensitive field keeps its value."""
    errors: dict[str, str] = {}
    cleaned: dict = {}
    generated: dict[str, str] = {}
    known = {f.name for f in fields_for(kind)}
    for name, value in values.items():
        if name in known:
            continue
        if name == "secret":  # chat: reached by its public key, nothing to sign
            errors[name] = _("A %(kind)s channel has no secret.") % {"kind": kind}
        elif name == "address" and isinstance(value, str):
            cleaned[name] = value.strip()
        else:
            # Options of the wider config the forms do not ask for (auto_ack, esp, ...), kept
            # as given: the API's `config` has always carried them.
            cleaned[name] = value
    for f in fields_for(kind):
        raw = values.get(f.name)
        if raw is None and channel is not None:
            continue  # not given on update: unchanged
        if f.kind == "lines":
            if isinstance(raw, str):
                raw = [line.strip() for line in raw.splitlines() if line.strip()]
            lines = [str(v).strip() for v in (raw or []) if str(v).strip()]
            bad = [v for v in lines if not re.fullmatch(r"https?://[^/\s]+", v)]
            if bad:
                errors[f.name] = _("Not an origin like https://www.example.com: %(bad)s") % {
                    "bad": ", ".join(bad[:3])
                }
                continue
            cleaned[f.name] = lines
            continue
        if raw is not None and not isinstance(raw, str | int):
            errors[f.name] = _("Enter text.")
            continue
        value = str(raw if raw is not None else "").strip()
        if not value and f.sensitive and channel is not None:
            continue  # blank on update: keep the stored secret
        if not value and f.generated:
            if channel is None and raw == "":  # sent empty on purpose, not left out
                errors[f.name] = _(
                    "An empty secret would make every delivery fail: leave the field out to have "
                    "one generated."
                )
                continue
            value = generated[f.name] = new_secret()
        if not value and f.required:
            errors[f.name] = _("%(label)s is needed for this provider.") % {"label": f.label}
            continue
        problem = _problem(f, value) if value else None
        if problem:
            errors[f.name] = problem
            continue
        cleaned[f.name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned, generated


def _problem(f: Field, value: str) -> str | None:
    from core import safe_http

    if f.kind == "email":
        try:
            validate_email(value)
        except ValidationError:
            return _("Enter the mailbox address, like help@example.com.")
    if f.kind == "url":
        try:
            safe_http.check(value)
        except safe_http.UnsafeURL as exc:
            return str(exc)
    if f.kind == "number" and not (value.isdigit() and 0 < int(value) < 65536):
        return _("Enter a port number between 1 and 65535.")
    if f.kind == "choice" and value not in f.choices:
        return _("Pick one of: %(choices)s.") % {"choices": ", ".join(f.choices)}
    if f.sensitive and len(value) > 255:
        return _("At most 255 characters.")
    return None


def _apply(channel: Channel, cleaned: dict) -> None:
    config = dict(channel.config or {})
    imap = dict(config.get("imap") or {})
    for name, value in cleaned.items():
        if name == "secret":
            channel.secret = value
        elif name == "address":
            channel.address = value
        elif name in IMAP_KEYS:
            key = IMAP_KEYS[name]
            if value in ("", None):
                imap.pop(key, None)
            else:
                imap[key] = int(value) if key == "port" else value
        elif value in ("", [], None):
            config.pop(name, None)
        else:
            config[name] = value
    if imap:
        config["imap"] = imap
    else:
        config.pop("imap", None)
    channel.config = config


def _check_address_free(channel: Channel) -> None:
    if channel.kind != Channel.Kind.EMAIL or not channel.address:
        return
    taken = Channel.objects.filter(kind=channel.kind, address__iexact=channel.address)
    if taken.exclude(pk=channel.pk).exists():
        raise ValidationError(
            {"address": _("Another email channel already receives this address.")}
        )


def _full_clean(channel: Channel) -> None:
    try:
        channel.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        if "config" in errors and channel.kind == Channel.Kind.API:
            errors["callback_url"] = [
                m.removeprefix("callback_url: ") for m in errors.pop("config")
            ]
        if "default_team" in errors:
            errors["team"] = errors.pop("default_team")
        raise ValidationError(errors) from exc


def set_up_channel(*, actor, kind: str, slug: str, name: str, team=None, values: dict) -> Setup:
    """Admins add a channel of `kind` from its schema's values. Secrets left out are generated
    (returned once in Setup.generated); a provider-owned secret (Meta app secret, Twilio auth
    token, X consumer secret) is required. Emits channel.created."""
    _require_admin(actor)
    if kind not in SCHEMA:
        raise ValidationError({"kind": _("Pick one of: %s.") % ", ".join(SCHEMA)})
    cleaned, generated = _clean(kind, values, channel=None)
    channel = Channel(kind=kind, slug=slug, name=(name or "").strip(), default_team=team)
    _apply(channel, cleaned)
    _full_clean(channel)
    _check_address_free(channel)
    with transaction.atomic():
        channel.save()
        events.publish(
            "channel.created",
            actor=actor,
            data={"channel": channel.pk, "kind": channel.kind, "slug": channel.slug},
        )
    return Setup(channel, generated)


def update_channel(
    *, actor, channel: Channel, name: str | None = None, team=..., values: dict
) -> Channel:
    """Change a channel's name, team or schema values; blank sensitive values keep theirs (use
    rotate_channel_secret for a new secret). Emits channel.updated with the changed names only."""
    _require_admin(actor)
    values = {k: v for k, v in values.items() if k != "secret"}
    cleaned, _generated = _clean(channel.kind, values, channel=channel)
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        if name is not None:
            locked.name = name.strip()
        if team is not ...:
            locked.default_team = team
        _apply(locked, cleaned)
        _full_clean(locked)
        _check_address_free(locked)
        locked.save()
        events.publish(
            "channel.updated",
            actor=actor,
            data={"channel": locked.pk, "slug": locked.slug, "fields": sorted(cleaned)},
        )
    return locked


def rotate_channel_secret(*, actor, channel: Channel, secret: str = "") -> Setup:
    """A new Channel.secret: generated for secrets we own, the given one for a provider's (Meta,
    Twilio, X). A provider that must be told first (Telegram's setWebhook) is told before the
    new secret is stored; if it refuses, the old secret stays and ValidationError says why."""
    _require_admin(actor)
    spec = next((f for f in fields_for(channel.kind) if f.name == "secret"), None)
    if spec is None:
        raise ValidationError({"secret": _("This kind of channel has no secret.")})
    secret = (secret or "").strip()
    generated: dict[str, str] = {}
    if not secret:
        if not spec.generated:
            raise ValidationError(
                {"secret": _("Paste the new %(label)s from the provider.") % {"label": spec.label}}
            )
        secret = generated["secret"] = new_secret()
    elif len(secret) > 255:
        raise ValidationError({"secret": _("At most 255 characters.")})
    push = _secret_pushes.get(channel.kind)
    if push is not None and channel.is_active:
        refused = push(channel, webhook_url(channel), secret)  # outside any transaction
        if refused:
            raise ValidationError(
                {
                    "secret": _("The provider refused the new secret (%(why)s); the old one stays.")
                    % {"why": refused}
                }
            )
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        locked.secret = secret
        locked.save(update_fields=["secret"])
        events.publish(
            "channel.secret_rotated", actor=actor, data={"channel": locked.pk, "slug": locked.slug}
        )
    return Setup(locked, generated)


def set_channel_active(*, actor, channel: Channel, active: bool) -> Channel:
    """Disable (webhooks to it answer 404, nothing is sent from it) or enable again. Its
    conversations and messages stay as they are."""
    _require_admin(actor)
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        events.publish(
            "channel.enabled" if active else "channel.disabled",
            actor=actor,
            data={"channel": locked.pk, "slug": locked.slug},
        )
    return locked


def test_channel_connection(*, actor, channel: Channel) -> list[Check]:
    """Run the provider's connection test; never inside a transaction (it calls out)."""
    _require_admin(actor)
    checks: list[Check] = []
    for probe in _probes.get(channel.kind, []):
        checks.extend(probe(channel, webhook_url(channel)))
    if not checks:
        checks.append(Check(_("Connection test"), False, _("This provider has none.")))
    return checks
