"""Attachments: stored under a generated key, shown under a safe display name."""

import re
import unicodedata

from django.conf import settings
from django.core.files.base import ContentFile

from inbox.models import Attachment, Message
from inbox.normalized import AttachmentRef

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


def max_attachment_bytes() -> int:
    return getattr(settings, "ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)


def store(message: Message, refs: tuple[AttachmentRef, ...]) -> list[Attachment]:
    """Store what fits the per-file limit; oversized files are listed by name with size 0 and a
    note in the message headers, so nothing disappears without trace."""
    stored, skipped = [], []
    for ref in refs:
        name = safe_name(ref.name)
        if len(ref.content) > max_attachment_bytes():
            skipped.append(
                {"name": name, "size": len(ref.content), "reason": "over the size limit"}
            )
            continue
        attachment = Attachment(
            message=message,
            name=name,
            content_type=(ref.content_type or "application/octet-stream")[:255],
            size=len(ref.content),
            content_id=ref.content_id[:255],
            is_inline=ref.is_inline,
        )
        attachment.file.save("attachment", ContentFile(ref.content), save=False)
        attachment.save()
        stored.append(attachment)
    if skipped:
        message.headers = {**message.headers, "x-switchboard-skipped-attachments": skipped}
        message.save(update_fields=["headers"])
    return stored
