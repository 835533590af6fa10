"""Email doors other than the webhook: files and stdin (`ingest_email`), ESP inbound through
django-anymail, and IMAP polling. Each stores the raw mail as an InboundEvent (provider
"email") first; the one email adapter and `receive_message` do the rest."""

import functools
import logging
from dataclasses import dataclass
from email.utils import getaddresses

from anymail.signals import inbound as anymail_inbound
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.dispatch import receiver
from django.urls import URLPattern

from inbox.intake.adapters.email import external_id_for
from inbox.intake.processing import process_inbound_event
from inbox.intake.queue import store_inbound
from inbox.models import Channel, InboundEvent, Message

logger = logging.getLogger(__name__)

PROVIDER = "email"


@dataclass(frozen=True)
class Ingested:
    outcome: str  # ok, duplicate, quarantined
    conversation_id: int | None = None
    reason: str = ""

    def line(self) -> str:
        if self.outcome == "quarantined":
            return f"quarantined {' '.join(self.reason.split())}"
        return f"{self.outcome} {self.conversation_id}"


def store_raw_email(
    *, channel: Channel | None, raw: bytes, source: str, error: str = "", enqueue: bool = True
) -> InboundEvent:
    """Store one raw mail (durable before anything else happens) and, on commit, queue its
    processing. With `error` (no channel matched) it is stored `failed`, listed for admins,
    never dropped."""
    return store_inbound(
        channel=channel,
        provider=PROVIDER,
        body=raw,
        headers={"source": source},
        error=error,
        enqueue=enqueue,
    )


def ingest_email(*, channel: Channel, raw: bytes, source: str = "file") -> Ingested:
    """Store one raw mail and process it now: `ok` with its conversation, `duplicate` with the
    conversation that already holds it, or `quarantined` with the reason (the event stays
    `failed` for `reprocess_inbound`). Auto-replies and bounces are stored and report `ok`."""
    event = store_raw_email(channel=channel, raw=raw, source=source, enqueue=False)
    event = process_inbound_event(event_id=event.pk)
    if event.status == InboundEvent.Status.FAILED:
        return Ingested("quarantined", reason=event.error or "unknown error")
    if event.status == InboundEvent.Status.DUPLICATE:
        conversation_id = (
            Message.objects.filter(channel=channel, external_id=external_id_for(raw))
            .values_list("conversation_id", flat=True)
            .first()
        )
        return Ingested("duplicate", conversation_id)
    conversation_id = event.messages.values_list("conversation_id", flat=True).first()
    return Ingested("ok", conversation_id)


# --- IMAP polling -------------------------------------------------------------------------------


class ImapNotConfigured(Exception):
    pass


def _imap_settings(channel: Channel) -> dict:
    imap = (channel.config or {}).get("imap") or {}
    missing = [key for key in ("host", "username", "password") if not imap.get(key)]
    if missing:
        raise ImapNotConfigured(f"channel {channel.slug}: config.imap needs {', '.join(missing)}")
    return imap


def _open_mailbox(imap: dict):
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    security = imap.get("security", "ssl")  # ssl, starttls, none (a local test server only)
    timeout = settings.IMAP_TIMEOUT_SECONDS
    if security == "none":
        box = MailBoxUnencrypted(imap["host"], int(imap.get("port", 143)), timeout=timeout)
    elif security == "starttls":
        box = MailBoxStartTls(imap["host"], int(imap.get("port", 143)), timeout=timeout)
    else:
        box = MailBox(imap["host"], int(imap.get("port", 993)), timeout=timeout)
    return box.login(imap["username"], imap["password"], initial_folder=imap.get("folder", "INBOX"))


def _fetch_raw(box, uid: str) -> bytes:
    # BODY.PEEK: fetching must not mark the mail seen; that happens once it is stored.
    status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise OSError(f"IMAP FETCH {uid} failed: {status}")
    return b"".join(part[1] for part in data if isinstance(part, tuple))


def poll_imap_channel(*, channel_id: int) -> int:
    """Fetch new mail of one email channel's IMAP folder; returns how many were stored.

    UID-based: the folder's UIDVALIDITY and the last stored UID are kept in the channel's
    config (`imap_state`) in the same transaction that stores the mails as InboundEvents, so a
    restart resumes where the last commit ended, without doubles. A mail is marked seen (or
    moved to `config.imap.move_to`) only after that commit. When UIDVALIDITY changes, only
    unseen mail is taken (the Message-ID also keeps a redelivered mail from making a second
    message). Processing is queued on commit."""
    from imap_tools import AND, U

    channel = Channel.objects.get(pk=channel_id, kind=Channel.Kind.EMAIL)
    imap = _imap_settings(channel)
    state = (channel.config or {}).get("imap_state") or {}
    folder = imap.get("folder", "INBOX")
    with _open_mailbox(imap) as box:
        uidvalidity = int(box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        last_uid = int(state.get("last_uid", 0)) if state.get("uidvalidity") == uidvalidity else 0
        criteria = AND(uid=U(last_uid + 1, "*")) if last_uid else AND(seen=False)
        # "N:*" always matches the newest mail, even below N: filter on our side.
        uids = sorted(int(u) for u in box.uids(criteria) if int(u) > last_uid)
        uids = uids[: settings.IMAP_BATCH]
        if not uids:
            return 0
        raws = [(uid, _fetch_raw(box, str(uid))) for uid in uids]
        with transaction.atomic():
            # Locked re-read: a concurrent poll of the same mailbox may have stored these.
            locked = Channel.objects.select_for_update().get(pk=channel.pk)
            current = (locked.config or {}).get("imap_state") or {}
            if current.get("uidvalidity") == uidvalidity:
                raws = [(uid, raw) for uid, raw in raws if uid > int(current["last_uid"])]
            for _uid, raw in raws:
                store_raw_email(channel=locked, raw=raw, source="imap")
            if raws:
                locked.config = {
                    **(locked.config or {}),
                    "imap_state": {"uidvalidity": uidvalidity, "last_uid": uids[-1]},
                }
                locked.save(update_fields=["config"])
        # Committed: only now may the server forget the mail is new.
        done = [str(uid) for uid in uids]
        if imap.get("move_to"):
            box.move(done, imap["move_to"])
        else:
            box.flag(done, r"\Seen", True)
    return len(raws)


def poll_imap_channels() -> dict:
    """Poll every active email channel that has IMAP configured; one failing mailbox does not
    stop the others (its error is logged and returned)."""
    results = {}
    channels = Channel.objects.filter(kind=Channel.Kind.EMAIL, is_active=True)
    for channel in channels.only("pk", "slug", "config"):
        if not (channel.config or {}).get("imap"):
            continue
        try:
            results[channel.slug] = poll_imap_channel(channel_id=channel.pk)
        except Exception as exc:
            logger.warning("IMAP poll of %s failed: %s", channel.slug, exc)
            results[channel.slug] = f"error: {exc}"
    return results


# --- ESP inbound (django-anymail) ---------------------------------------------------------------


def _bare_address(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.partition('+')[0]}@{domain}" if local else ""


def email_channel_for_recipients(recipients: list[str]) -> Channel | None:
    """The active email channel whose address is one of the recipients (plus-tags ignored),
    the first recipient winning."""
    candidates = list(dict.fromkeys(filter(None, (_bare_address(r) for r in recipients))))
    if not candidates:
        return None
    channels = {
        channel.address.strip().lower(): channel
        for channel in Channel.objects.filter(
            kind=Channel.Kind.EMAIL, is_active=True, address__in=candidates
        )
    }
    if len(channels) < len(candidates):  # addresses typed in mixed case
        query = Q()
        for candidate in candidates:
            query |= Q(address__iexact=candidate)
        channels.update(
            (channel.address.strip().lower(), channel)
            for channel in Channel.objects.filter(query, kind=Channel.Kind.EMAIL, is_active=True)
        )
    return next((channels[c] for c in candidates if c in channels), None)


def store_esp_inbound(*, esp_name: str, message) -> InboundEvent:
    """Turn one AnymailInboundMessage into a raw InboundEvent on the channel chosen by its
    recipients (envelope first, then To, Cc, Delivered-To). No channel: stored `failed` with
    the reason, for admins; never dropped. Processing is queued on commit."""
    recipients = [getattr(message, "envelope_recipient", None) or ""]
    for header in ("To", "Cc", "Delivered-To", "X-Original-To"):
        recipients += [address for _name, address in getaddresses(message.get_all(header, []))]
    channel = email_channel_for_recipients(recipients)
    try:
        raw = message.as_bytes()
    except (UnicodeError, LookupError, ValueError):
        # A message anymail assembled from an ESP's JSON with text it cannot re-encode.
        raw = message.as_string().encode("utf-8", "surrogateescape")
    error = "" if channel else f"no email channel for recipients {recipients[:10]}"
    return store_raw_email(channel=channel, raw=raw, source=f"esp:{esp_name}", error=error)


@receiver(anymail_inbound, dispatch_uid="inbox.store_esp_inbound")
def _on_anymail_inbound(sender, event, esp_name, **kwargs) -> None:
    # The one signal receiver (a third-party boundary): store, and return to anymail's 200.
    store_esp_inbound(esp_name=esp_name, message=event.message)


def _requires_secret(view):
    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        from anymail.exceptions import AnymailWebhookValidationFailure

        from inbox.intake.admission import error

        if not (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"):
            return error(
                401, "not_configured", "ESP webhooks are off until ANYMAIL_WEBHOOK_SECRET is set."
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.INBOUND_MAX_BYTES:
            return error(413, "too_large", f"Body over {settings.INBOUND_MAX_BYTES} bytes.")
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("rejected ESP webhook %s: %s", request.path, exc)
            return error(401, "bad_signature", str(exc) or "Webhook authentication failed.")
        except DatabaseError:
            logger.exception("could not store ESP webhook %s", request.path)
            return error(503, "unavailable", "Storage is unavailable; retry later.")
        except Exception as exc:  # anymail parsing a body its ESP would never send
            logger.warning("malformed ESP webhook %s: %r", request.path, exc)
            return error(
                400, "malformed", f"The ESP payload could not be read ({type(exc).__name__})."
            )

    guarded.csrf_exempt = True
    return guarded


def anymail_inbound_patterns() -> list:
    import anymail.urls

    return [
        URLPattern(p.pattern, _requires_secret(p.callback), p.default_args, p.name)
        for p in anymail.urls.urlpatterns
    ]
