"""Attachments: stored under a generated key, shown under a safe display name."""

import logging
import re
import unicodedata
from datetime import timedelta

import filetype
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.utils import timezone

from core.tasks import eager
from inbox.models import Attachment, Message
from inbox.normalized import AttachmentRef

logger = logging.getLogger(__name__)

# Bidi overrides and zero-width characters let "invoice_gpj.exe" display as "invoice_exe.jpg".
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def safe_name(name: str, fallback: str = "attachment") -> str:
    """A display name that is never a path: no separators, no '..', no control or bidi chars."""
    name = unicodedata.normalize("NFC", name or "")
    name = _INVISIBLE.sub("", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.replace("/", "_").replace("\\", "_").strip().strip(".")
    name = re.sub(r"\.{2,}", ".", name)
    return (name or fallback)[:200]


class MissingFile(Exception):
    """An attachment's row is there but its file is not in the storage (deleted from the
    folder or the bucket, or the storage is not the one it was written to)."""


def opened(attachment: Attachment) -> File:
    """An attachment's file from the configured storage (STORAGES["default"]: the folder or an
    S3-compatible bucket), opened for reading; MissingFile when the storage has no such file."""
    name = attachment.file.name
    if not name:
        raise MissingFile("")
    try:
        # Both the folder and django-storages' S3 storage look the file up on open
        # (FileNotFoundError): no separate exists() round trip.
        return attachment.file.storage.open(name, "rb")
    except OSError as exc:
        raise MissingFile(name) from exc


def download_response(attachment: Attachment):
    """The file of an attachment the caller may see, as a download never rendered inline (a
    hostile .html or .svg cannot run on our origin); a JSON 404 when the storage lost it. The
    agents' pages and the REST API (token or session) both answer with this."""
    from django.http import FileResponse, JsonResponse
    from django.utils.translation import gettext

    if attachment.state == Attachment.State.PENDING:
        return JsonResponse(
            {"detail": gettext("The file is still being downloaded from the provider.")},
            status=409,
        )
    if attachment.state == Attachment.State.UNAVAILABLE:
        reason = attachment.unavailable_reason
        return JsonResponse(
            {"detail": gettext("The file is unavailable: %(reason)s") % {"reason": reason}},
            status=404,
        )
    try:
        stored = opened(attachment)
    except MissingFile:
        logger.warning(
            "attachment %s has no file in the storage (%s)", attachment.pk, attachment.file.name
        )
        return JsonResponse(
            {"detail": "The file of this attachment is missing from the file storage."},
            status=404,
        )
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=attachment.name or "attachment",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def max_attachment_bytes() -> int:
    return getattr(settings, "ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)


def max_total_bytes() -> int:
    return getattr(settings, "ATTACHMENT_MAX_TOTAL_BYTES", 50 * 1024 * 1024)


# Declared types that are containers of the same bytes: a .docx is a zip, a jpg is a jpeg.
_SAME_KIND = [
    {"image/jpeg", "image/jpg", "image/pjpeg"},
    {"application/zip", "application/x-zip-compressed", "application/x-zip"},
]
_ZIP_CONTAINERS = ("application/vnd.openxmlformats", "application/vnd.oasis", "application/epub")
# Types a browser or viewer renders by content: these must be what they claim.
_MUST_MATCH = ("image/", "application/pdf", "audio/", "video/")


def checked_type(declared: str, content: bytes) -> tuple[str, str]:
    """(content type to store, detected type when it contradicts the declared one, else "").
    A file whose bytes are not what its declared type says is stored as octet-stream."""
    declared = (declared or "application/octet-stream").lower()[:255]
    detected = filetype.guess_mime(content) if content else None
    if detected is None:
        if declared.startswith(_MUST_MATCH) and content:
            return "application/octet-stream", "unknown"
        return declared, ""
    if detected == declared or any({detected, declared} <= kind for kind in _SAME_KIND):
        return declared, ""
    if detected == "application/zip" and declared.startswith(_ZIP_CONTAINERS):
        return declared, ""
    return "application/octet-stream", detected


AWAIT_TASK = timedelta(minutes=2)
SOURCE_CHARS = Attachment._meta.get_field("source").max_length or 2048


def awaited(message: Message, ref: AttachmentRef, name: str) -> Attachment:
    """The row of a file the provider only referenced (a URL, a media id): pending until
    inbox.intake.media downloads it, or unavailable at once when the reference cannot be kept."""
    attachment = Attachment(
        message=message,
        name=name,
        content_type=(ref.content_type or "application/octet-stream")[:255],
        content_id=ref.content_id[:255],
        is_inline=ref.is_inline,
        state=Attachment.State.PENDING,
        source=ref.url,
        # Embedded mode: due now, for the sweep on the scheduler thread. Otherwise a task is
        # sent on commit; the sweep sends one only if it never ran.
        next_attempt_at=timezone.now() + (timedelta(0) if eager() else AWAIT_TASK),
    )
    if len(ref.url) > SOURCE_CHARS:
        attachment.source = ref.url[:SOURCE_CHARS]
        attachment.state = Attachment.State.UNAVAILABLE
        attachment.unavailable_reason = f"The media URL is longer than {SOURCE_CHARS} characters."
    return attachment


def sniffed_type(content: bytes, *declared: str) -> str:
    """The type of a downloaded file: the first declared one (the provider's look-up, the
    payload's, the server's Content-Type) that the bytes do not contradict; else what the bytes
    are; else octet-stream. Wildcards ("image/*") and octet-stream declare nothing."""
    for given in declared:
        given = (given or "").split(";")[0].strip().lower()
        if not given or "*" in given or given == "application/octet-stream":
            continue
        kept, contradicted = checked_type(given, content)
        if not contradicted:
            return kept
    return filetype.guess_mime(content) or "application/octet-stream"


def store(message: Message, refs: tuple[AttachmentRef, ...]) -> list[Attachment]:
    """Store what fits the per-file and per-message limits; files over them are listed by name
    with a note in the message headers, so nothing disappears without trace. The declared type
    is checked against the bytes; a mismatch is noted and the file stored as octet-stream."""
    stored, noted = prepared(message, refs)
    Attachment.objects.bulk_create(stored)
    if noted:
        message.save(update_fields=["headers"])
    return stored


def prepared(message: Message, refs: tuple[AttachmentRef, ...]) -> tuple[list[Attachment], bool]:
    """store() up to the rows: the files are written and the rows made but not inserted (the
    message may not be either: a drain inserts a run's rows together), and what was skipped or
    retyped is noted in `message.headers` (in memory). Returns the rows, and whether the headers
    gained a note."""
    stored, skipped, mismatched = [], [], []
    total = 0
    for ref in refs:
        name = safe_name(ref.name)
        if ref.url and not ref.content:
            stored.append(awaited(message, ref, name))
            continue
        if len(ref.content) > max_attachment_bytes():
            skipped.append(
                {"name": name, "size": len(ref.content), "reason": "over the size limit"}
            )
            continue
        if total + len(ref.content) > max_total_bytes():
            skipped.append(
                {"name": name, "size": len(ref.content), "reason": "over the per-message limit"}
            )
            continue
        total += len(ref.content)
        content_type, detected = checked_type(ref.content_type, ref.content)
        if detected:
            mismatched.append(
                {"name": name, "declared": ref.content_type[:255], "detected": detected}
            )
        attachment = Attachment(
            message=message,
            name=name,
            content_type=content_type,
            size=len(ref.content),
            content_id=ref.content_id[:255],
            is_inline=ref.is_inline,
        )
        attachment.file.save("attachment", ContentFile(ref.content), save=False)
        stored.append(attachment)
    if not skipped and not mismatched:
        return stored, False
    notes = {"x-switchboard-skipped-attachments": skipped} if skipped else {}
    if mismatched:
        notes["x-switchboard-type-mismatch"] = mismatched
    message.headers = {**message.headers, **notes}
    return stored, True
