"""Files a website visitor attaches in the chat widget: one file a request, checked here (size,
and the type its bytes show, as inbox.attachments checks every stored file), then taken through
the same intake path as a typed message (inbox.chat.service.take_visitor_body): stored raw as an
InboundEvent, processed at once, the file becoming the message's Attachment.

The limits are deliberately narrower than what agents may send: pictures, PDFs and the common
office and text formats a customer shows support, nothing a browser would run."""

import mimetypes
import uuid

from django.conf import settings
from django.utils.translation import gettext as _

from inbox.attachments import checked_type, safe_name
from inbox.chat import service as chat

MB = 1024 * 1024
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
ACCEPTED = (
    *IMAGES,
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
)  # static/chat/widget.js offers the same to its picker (a hint; this is the check)


class FileTooLarge(chat.ChatError):
    status = 413
    code = "file_too_large"


class FileTypeRefused(chat.ChatError):
    status = 415
    code = "file_type_refused"


def max_bytes() -> int:
    return getattr(settings, "CHAT_FILE_MAX_BYTES", 10 * MB)


def size_words(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1024))} KB"


def declared_type(name: str, declared: str) -> str:
    """The browser's type for the file, or the one its name suggests when the browser had none
    (some send "" or octet-stream for office files)."""
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def checked_file(name: str, declared: str, content: bytes) -> tuple[str, str]:
    """(safe display name, content type to store), or FileTooLarge / FileTypeRefused with words
    the widget shows."""
    shown = safe_name(name, fallback="file")
    if len(content) > max_bytes():
        raise FileTooLarge(
            _("“%(name)s” is %(size)s; files can be at most %(limit)s.")
            % {"name": shown, "size": size_words(len(content)), "limit": size_words(max_bytes())}
        )
    if not content:
        raise chat.ChatError(_("“%(name)s” is empty.") % {"name": shown})
    content_type, _detected = checked_type(declared_type(shown, declared), content[:8192])
    if content_type not in ACCEPTED:
        raise FileTypeRefused(
            _(
                "“%(name)s” cannot be sent here: send a picture (PNG, JPEG, GIF, WebP), a PDF, "
                "or an office or text document."
            )
            % {"name": shown}
        )
    return shown, content_type


def post_visitor_file(
    *, session: chat.ChatSession, name: str, declared: str, content: bytes, client_id: str = ""
) -> dict:
    """Take one file from a visitor: checked (FileTooLarge, FileTypeRefused), rate-limited as a
    message (RateLimited), then stored and processed as an inbound chat message whose only
    content is the file, and pushed to the session's open widgets. Returns the message as the
    widget shows it; the same `client_id` again stores nothing new."""
    from inbox.intake.adapters import chat as adapter

    shown, content_type = checked_file(name, declared, content)
    chat.check_limits(session, "")
    body = adapter.encode(
        message_id=chat.clean_client_id(client_id) or uuid.uuid4().hex,
        session=session.id,
        name=session.name,
        email=session.email,
        text="",
        files=[(shown, content_type, content)],
        language=session.language,
    )
    message = chat.take_visitor_body(session=session, body=body)
    if message is None:  # stored, processed later by the sweep: nothing is lost
        message = {"id": None, "from": "visitor", "author": "", "text": "", "at": None}
        message["files"] = [{"name": shown, "url": "", "content_type": content_type}]
    return message
