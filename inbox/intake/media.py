"""Customers' media: the files a provider only references, downloaded after the message is stored.

A Twilio `MediaUrlN`, a WhatsApp media id (a Graph API look-up `GET /{media-id}` gives a URL,
downloaded with the same token), a Messenger or Instagram attachment's `payload.url`, a Telegram
`file_id` (`getFile`, then `/file/bot<token>/<file_path>`), an X DM's media URL and an API channel
attachment's `url`. receive_message stores the attachment as pending
(inbox.attachments.awaited), so the message shows at once; schedule_downloads() sends a
download_media task when the transaction commits (embedded mode: the re-queue sweep runs it on
the scheduler thread, so a webhook's answer never waits for a download).

Each try claims the row (a conditional UPDATE: two workers never download the same file), asks
the provider where the file is, and fetches it through core.safe_http: only from hosts on
MEDIA_ALLOWED_HOSTS or the providers' configured base URLs, never an internal address, at most
MEDIA_DOWNLOAD["MAX_BYTES"]. The file is stored with its real size and sniffed type, and
message.updated tells the agents' pages. Network errors, 5xx, 408 and 429 are tried again
after a backoff kept in the row (next_attempt_at; the sweep sends what is due); a refused host,
an oversize file, another 4xx, or the last retry leave the attachment unavailable with the
reason. Never a silent empty file.
"""

import logging
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import safe_http
from inbox import attachments, events
from inbox.models import Attachment, Channel

logger = logging.getLogger(__name__)

WHATSAPP, TELEGRAM = "whatsapp-media:", "telegram-file:"
LOOKUP_BYTES = 64 * 1024  # a Graph API or getFile answer: a small JSON object
MAX_DELAY = 6 * 3600
SWEEP_LIMIT = 500
TASK_BATCH = 20  # attachments per download_media task sent by the sweep
FETCHERS = 8  # downloads of one task side by side


class Unavailable(Exception):
    """Trying again cannot help: the attachment is marked unavailable with this reason."""


class TryAgain(Exception):
    """A failure that may pass (network, 5xx, 429): tried again after a backoff."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class Source:
    url: str
    headers: dict = field(default_factory=dict)
    declared: str = ""  # a content type the provider's look-up gave


def schedule_downloads(rows) -> None:
    """After the transaction that stored `rows` commits, make sure a media drain will take the
    pending ones. In eager mode (embedded) the sweep runs them instead, off the request."""
    from core.tasks import eager

    if not eager() and any(row.state == Attachment.State.PENDING for row in rows):
        transaction.on_commit(schedule_drain)


DRAIN_FLAG = "media:drain"
DRAIN_FLAG_SECONDS = 5
DRAIN_BATCH = 50
DRAIN_ROUNDS = 20


def schedule_drain() -> bool:
    """Send a drain_media task unless one is queued already (a flag in the shared cache, as the
    inbound drains do): one task takes the files of many messages. Never fails the caller."""
    from core.cache import shared
    from core.tasks import enqueue
    from inbox.intake.tasks import drain_media

    try:
        if not shared().add(DRAIN_FLAG, 1, timeout=DRAIN_FLAG_SECONDS):
            return False
    except Exception:
        logger.warning("the shared cache is down: a media drain is sent anyway")
    return enqueue(drain_media)


def drain() -> int:
    """Download the pending files not tried yet and the retries due, DRAIN_BATCH at a time
    (download_many: fetched side by side, settled in one transaction); at most DRAIN_ROUNDS
    batches, then another drain is scheduled. Returns how many were tried."""
    from core.cache import shared

    try:
        shared().delete(DRAIN_FLAG)  # arrivals from now on need a new drain
    except Exception:
        logger.warning("could not clear the media drain flag")
    tried = 0
    for _ in range(DRAIN_ROUNDS):
        now = timezone.now()
        stale = now - timedelta(seconds=_config()["TIMEOUT"] + 120)
        ids = list(
            Attachment.objects.filter(state=Attachment.State.PENDING)
            .filter(Q(download_attempts=0) | Q(next_attempt_at__lte=now))
            .filter(Q(download_claimed_at__isnull=True) | Q(download_claimed_at__lt=stale))
            .order_by("pk")
            .values_list("pk", flat=True)[:DRAIN_BATCH]
        )
        if not ids:
            return tried
        tried += len(download_many(ids))
    schedule_drain()
    return tried


def _send(ids: list[int], countdown: float | None = None) -> None:
    from core.tasks import enqueue
    from inbox.intake.tasks import download_media

    enqueue(download_media, ids, countdown=countdown)


def _config() -> dict:
    return settings.MEDIA_DOWNLOAD


def _allowed_hosts() -> list[str]:
    bases = (
        settings.META_GRAPH_BASE_URL,
        settings.TELEGRAM_API_BASE_URL,
        settings.TWILIO_API_BASE_URL,
        settings.X_API_BASE_URL,
    )
    return [*settings.MEDIA_ALLOWED_HOSTS, *(urlsplit(url).hostname or "" for url in bases)]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _body(fetched: safe_http.Fetched, what: str) -> bytes:
    """The body of a 2xx, or the failure sorted into Unavailable and TryAgain."""
    status = fetched.status_code
    if status is not None and 200 <= status < 300 and not fetched.error:
        return fetched.body
    reason = f"{what}: {fetched.error}"
    if fetched.refused or (status is not None and 400 <= status < 500 and status not in (408, 429)):
        raise Unavailable(reason)
    raise TryAgain(reason, retry_after=fetched.retry_after)


def _get(url: str, what: str, *, headers: dict | None = None, max_bytes: int) -> tuple:
    fetched = safe_http.fetch(
        url,
        allowed_hosts=_allowed_hosts(),
        max_bytes=max_bytes,
        timeout=_config()["TIMEOUT"],
        headers=headers,
    )
    return _body(fetched, what), fetched.content_type


def _json(url: str, what: str, *, headers: dict | None = None) -> dict:
    import json

    body, _ = _get(url, what, headers=headers, max_bytes=LOOKUP_BYTES)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise TryAgain(f"{what}: the answer is not JSON.") from exc
    if not isinstance(data, dict):
        raise TryAgain(f"{what}: the answer is not a JSON object.")
    return data


# Ids and tokens put into a provider URL's path: nothing that could leave the intended path.
SEGMENT = re.compile(r"[A-Za-z0-9_=+:-][A-Za-z0-9_.=+:-]{0,255}")


def _segment(value: str, what: str) -> str:
    if not SEGMENT.fullmatch(value):
        raise Unavailable(f"The {what} {value[:40]!r} is not a valid id.")
    return value


def _token(channel: Channel, key: str, what: str) -> str:
    token = str(channel.config.get(key) or "")
    if not token:
        raise Unavailable(f"The channel has no {what} (config {key}), so its media cannot be read.")
    return token


def _whatsapp(channel: Channel, media_id: str) -> Source:
    token = _token(channel, "access_token", "access token")
    bearer = {"Authorization": f"Bearer {token}"}
    base = settings.META_GRAPH_BASE_URL.rstrip("/")
    lookup = f"{base}/{settings.META_GRAPH_API_VERSION}/{_segment(media_id, 'media id')}"
    data = _json(lookup, "WhatsApp media look-up", headers=bearer)
    url = str(data.get("url") or "")
    if not url:
        raise Unavailable("WhatsApp media look-up: the answer has no url.")
    return Source(url, bearer, declared=str(data.get("mime_type") or ""))


def _telegram(channel: Channel, file_id: str) -> Source:
    token = _segment(_token(channel, "bot_token", "bot token"), "bot token")
    base = f"{settings.TELEGRAM_API_BASE_URL.rstrip('/')}"
    data = _json(f"{base}/bot{token}/getFile?{urlencode({'file_id': file_id})}", "Telegram getFile")
    path = str((data.get("result") or {}).get("file_path") or "")
    if not data.get("ok") or not path:
        raise Unavailable(f"Telegram getFile: {data.get('description') or 'no file_path'}.")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise Unavailable(f"Telegram getFile: the file path {path[:60]!r} is not valid.")
    return Source(f"{base}/file/bot{token}/{quote(path, safe='/')}")


def source(attachment: Attachment) -> Source:
    """Where the attachment's bytes are, and the credentials that URL's host is given."""
    ref, message = attachment.source, attachment.message
    channel = message.channel
    if ref.startswith(WHATSAPP):
        return _whatsapp(channel, ref[len(WHATSAPP) :])
    if ref.startswith(TELEGRAM):
        return _telegram(channel, ref[len(TELEGRAM) :])
    if urlsplit(ref).scheme not in ("http", "https"):
        raise Unavailable(f"The media reference {ref[:60]!r} is not a URL.")
    host = _host(ref)
    config = channel.config or {}
    # Twilio's media URLs may require HTTP basic auth (the account SID and auth token).
    twilio = channel.kind == Channel.Kind.TWILIO and host == _host(settings.TWILIO_API_BASE_URL)
    if twilio and config.get("account_sid") and channel.secret:
        return Source(ref, {"Authorization": _basic(config["account_sid"], channel.secret)})
    if channel.kind == Channel.Kind.META and (message.headers or {}).get("platform") == "whatsapp":
        # A WhatsApp payload's own media URL (lookaside) is read with the channel's token.
        return Source(ref, {"Authorization": f"Bearer {_token(channel, 'access_token', 'token')}"})
    if channel.kind == Channel.Kind.X and config.get("access_token"):
        return Source(ref, {"Authorization": f"Bearer {config['access_token']}"})
    return Source(ref)


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _claimed(ids: list[int], now) -> list[Attachment]:
    """The pending attachments of `ids` this worker takes: one UPDATE marks them with `now`
    (a claim older than a download's timeout belongs to a worker that died)."""
    stale = now - timedelta(seconds=_config()["TIMEOUT"] + 120)
    taken = (
        Attachment.objects.filter(pk__in=ids, state=Attachment.State.PENDING)
        .filter(Q(download_claimed_at__isnull=True) | Q(download_claimed_at__lt=stale))
        .update(download_claimed_at=now, download_attempts=F("download_attempts") + 1)
    )
    if not taken:
        return []
    return list(
        Attachment.objects.select_related("message__channel", "message__conversation")
        .filter(pk__in=ids, state=Attachment.State.PENDING, download_claimed_at=now)
        .order_by("pk")
    )


@dataclass
class _Outcome:
    content: bytes = b""
    served: str = ""
    declared: str = ""
    failure: Exception | None = None


def _fetched(attachment: Attachment) -> _Outcome:
    """The provider's look-up and the download; no database work (runs on a fetcher thread)."""
    try:
        found = source(attachment)
        content, served = _get(
            found.url, "Download", headers=found.headers, max_bytes=_config()["MAX_BYTES"]
        )
    except Exception as exc:
        return _Outcome(failure=exc)
    if not content:
        return _Outcome(failure=TryAgain("Download: the server sent an empty file."))
    return _Outcome(content, served, found.declared)


def download_many(ids: list[int]) -> dict[int, str]:
    """One try at each pending attachment of `ids`, the fetches side by side (FETCHERS
    threads: the wait is the provider's, not our CPU). Returns each one's state afterwards; ids
    not pending or held by another worker are left out."""
    claimed = _claimed(ids, timezone.now())
    if len(claimed) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(FETCHERS, len(claimed))) as pool:
            outcomes = list(pool.map(_fetched, claimed))
    else:
        outcomes = [_fetched(a) for a in claimed]
    # One transaction for the task's outcomes: their events fan out together after it.
    with transaction.atomic():
        return {a.pk: _settle(a, o) for a, o in zip(claimed, outcomes, strict=True)}


def download(*, attachment_id: int) -> str:
    """One try at one pending attachment; its state afterwards ("" when it was not pending or
    another worker holds it)."""
    return download_many([attachment_id]).get(attachment_id, "")


def _settle(attachment: Attachment, outcome: _Outcome) -> str:
    failure = outcome.failure
    if isinstance(failure, Unavailable):
        return _finish(attachment, state=Attachment.State.UNAVAILABLE, reason=str(failure))
    if isinstance(failure, TryAgain):
        return _try_again(attachment, str(failure), failure.retry_after)
    if failure is not None:  # a bug must not lose the file: tried again like a network error
        logger.error("media download of attachment %s crashed", attachment.pk, exc_info=failure)
        return _try_again(attachment, f"{failure.__class__.__name__}: {failure}", None)
    content = outcome.content
    content_type = attachments.sniffed_type(
        content, outcome.declared, attachment.content_type, outcome.served
    )
    attachment.file.save("attachment", ContentFile(content), save=False)
    name = attachment.name
    if "." not in name:
        name += mimetypes.guess_extension(content_type) or ""
    return _finish(
        attachment,
        state=Attachment.State.STORED,
        file=attachment.file.name,
        size=len(content),
        content_type=content_type,
        name=name[:255],
    )


def _try_again(attachment: Attachment, reason: str, retry_after: float | None) -> str:
    from core.tasks import eager

    attempt = attachment.download_attempts
    config = _config()
    if attempt > config["RETRIES"]:
        return _finish(
            attachment,
            state=Attachment.State.UNAVAILABLE,
            reason=f"Gave up after {attempt} tries. {reason}",
        )
    delay = min(MAX_DELAY, max(retry_after or 0, config["BACKOFF_SECONDS"] * 4 ** (attempt - 1)))
    logger.info(
        "media download of attachment %s: try %s failed: %s", attachment.pk, attempt, reason
    )
    Attachment.objects.filter(pk=attachment.pk, state=Attachment.State.PENDING).update(
        download_claimed_at=None, next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )
    if not eager():  # in eager mode the sweep sends it when due
        transaction.on_commit(lambda: _send([attachment.pk], countdown=delay))
    return Attachment.State.PENDING


def _finish(attachment: Attachment, *, state: str, reason: str = "", **fields) -> str:
    """Settle a claimed attachment (inside download_many's transaction) and tell the pages."""
    changed = Attachment.objects.filter(pk=attachment.pk, state=Attachment.State.PENDING).update(
        state=state,
        unavailable_reason=reason[:500],
        download_claimed_at=None,
        next_attempt_at=None,
        **fields,
    )
    if not changed:  # deleted or settled meanwhile
        if fields.get("file"):
            attachment.file.storage.delete(fields["file"])
        return ""
    if state == Attachment.State.UNAVAILABLE:
        logger.warning("attachment %s is unavailable: %s", attachment.pk, reason)
    message = attachment.message
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "attachment": attachment.pk, "attachment_state": state},
    )
    return state


def requeue_due(*, limit: int = SWEEP_LIMIT) -> int:
    """Pending downloads whose try is due (never sent, lost with a broker, or a retry's time):
    sent in tasks of TASK_BATCH."""
    now = timezone.now()
    stale = now - timedelta(seconds=_config()["TIMEOUT"] + 120)
    due = list(
        Attachment.objects.filter(state=Attachment.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(download_claimed_at__isnull=True) | Q(download_claimed_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(due), TASK_BATCH):
        _send(due[start : start + TASK_BATCH])
    return len(due)
