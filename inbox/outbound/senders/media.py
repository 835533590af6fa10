"""What the senders share about files sent with a reply: the message's attachments and their
bytes, and sending one reply as several provider requests (the text, then each file) so that a
retry after a failure part-way sends only what has not gone yet."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from inbox.attachments import MissingFile, opened
from inbox.models import Attachment, Message
from inbox.outbound.senders import PermanentSendError


def attachments_of(message: Message) -> list[Attachment]:
    return list(Attachment.objects.filter(message_id=message.pk).order_by("id"))


def content_of(attachment: Attachment) -> bytes:
    try:
        with opened(attachment) as handle:
            return handle.read()
    except MissingFile as exc:
        raise PermanentSendError(f"the file {attachment.name!r} is no longer stored") from exc


@contextmanager
def upload(attachment: Attachment) -> Iterator[tuple[str, IO[bytes], str]]:
    """(name, open file, type): one file of an httpx multipart `files=` argument, streamed from
    the storage in chunks rather than read whole into memory (WhatsApp documents reach 100 MB)."""
    try:
        handle = opened(attachment)
    except MissingFile as exc:
        raise PermanentSendError(f"the file {attachment.name!r} is no longer stored") from exc
    with handle:
        yield attachment.name, handle, attachment.content_type


def in_parts(message: Message, parts: list[tuple[str, Callable[[], str | None]]]) -> str | None:
    """Send each (key, send) part not sent before; the provider's id of each sent part is kept
    in message.headers["sent_parts"] as soon as it is known (a reply of one part keeps nothing:
    there is nothing to skip on a retry). Returns the first part's id."""
    done: dict[str, str | None] = dict(message.headers.get("sent_parts") or {})
    for key, send in parts:
        if key in done:
            continue
        done[key] = send()
        if len(parts) > 1:
            message.headers = {**message.headers, "sent_parts": done}
            Message.objects.filter(pk=message.pk).update(headers=message.headers)
    ids = [done.get(key) for key, _ in parts]
    return next((i for i in ids if i), None)
