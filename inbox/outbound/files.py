"""Files agents send with a reply: what each provider accepts (one table), the check made before
anything is stored or sent, storing them as the reply's attachments, and the signed, expiring
URLs through which providers that fetch by URL (and the API channel's integrations) get them.

The limits are the providers' own documented ones:
WhatsApp Cloud API https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
Messenger https://developers.facebook.com/docs/messenger-platform/send-messages#file
Instagram https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api
Telegram https://core.telegram.org/bots/api#sending-files
Twilio https://www.twilio.com/docs/messaging/guides/accepted-mime-types
X https://docs.x.com/x-api/media/quickstart/media-upload-chunked (DM images)
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.base import File
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import ActionRefused
from inbox.attachments import checked_type, safe_name
from inbox.models import Attachment, Conversation, Message

MB = 1024 * 1024
SALT = "switchboard.outbound-file"


@dataclass(frozen=True)
class Limit:
    provider: str
    image: int  # most bytes of one image/* file
    other: int  # most bytes of one file of any other accepted type
    total: int  # most bytes of all files of one reply
    files: int  # most files in one reply
    types: tuple[str, ...] = ()  # accepted type prefixes; () accepts any type
    image_types: tuple[str, ...] = ()  # images the provider shows as images; others are "other"


ANY = ()
MEDIA = ("image/", "video/", "audio/")

# (channel kind, platform) -> Limit. The platform is where the customer wrote from on channels
# that carry several (a Meta channel: messenger, instagram, whatsapp; Twilio: sms, whatsapp).
LIMITS: dict[tuple[str, str], Limit] = {
    ("email", ""): Limit("Email", 25 * MB, 25 * MB, 25 * MB, 20),
    ("meta", "messenger"): Limit("Messenger", 25 * MB, 25 * MB, 25 * MB, 10),
    ("meta", "instagram"): Limit(
        "Instagram", 8 * MB, 25 * MB, 25 * MB, 10, MEDIA, ("image/jpeg", "image/png", "image/gif")
    ),
    ("meta", "whatsapp"): Limit(
        "WhatsApp",
        5 * MB,
        100 * MB,
        100 * MB,
        10,
        ANY,
        ("image/jpeg", "image/png"),
    ),
    ("telegram", ""): Limit("Telegram", 50 * MB, 50 * MB, 50 * MB, 10),
    ("twilio", "sms"): Limit(
        "Twilio MMS", 5 * MB, 5 * MB, 5 * MB, 10, (*MEDIA, "application/pdf", "text/vcard")
    ),
    ("twilio", "whatsapp"): Limit(
        "WhatsApp (Twilio)",
        5 * MB,
        16 * MB,
        16 * MB,
        1,
        (*MEDIA, "application/pdf"),
        ("image/jpeg", "image/png"),
    ),
    ("x", ""): Limit(
        "X", 5 * MB, 5 * MB, 5 * MB, 1, ("image/jpeg", "image/png", "image/webp", "image/gif")
    ),
    ("api", ""): Limit("The API channel", 25 * MB, 25 * MB, 50 * MB, 10),
    # Our own widget: the visitor gets signed links (images previewed), or the email fallback's
    # attachments, which stay within Email's 25 MB.
    ("chat", ""): Limit("The website chat", 10 * MB, 10 * MB, 25 * MB, 5),
}


class FileRefused(ActionRefused):
    """A file the reply's channel cannot carry: names the file and the limit."""

    def __init__(self, text: str, *, name: str = "", limit: int | None = None):
        super().__init__(text)
        self.name, self.limit = name, limit

    def as_json(self) -> dict:
        return {"detail": str(self), "file": self.name, "limit": self.limit}


@dataclass
class Outgoing:
    """A file an agent attached: its display name, declared type, size and an open file."""

    name: str
    content_type: str
    size: int
    file: File


def outgoing_files(uploads) -> list[Outgoing]:
    """Django's uploaded files (request.FILES) as files of a reply."""
    return [
        Outgoing(
            name=upload.name or "file",
            content_type=upload.content_type or "application/octet-stream",
            size=upload.size,
            file=upload,
        )
        for upload in uploads
    ]


def limit_words(limit: Limit | None) -> str:
    """The channel's limits in a sentence, shown beside the attach button."""
    if limit is None:
        return _("This channel cannot carry files.")
    values = {
        "provider": limit.provider,
        "image": size_words(limit.image),
        "other": size_words(limit.other),
        "count": limit.files,
        "types": ", ".join(t.rstrip("/") for t in limit.types),
    }
    if limit.image == limit.other:
        text = _("%(provider)s takes files up to %(other)s, %(count)d at most.") % values
    else:
        text = (
            _(
                "%(provider)s takes images up to %(image)s and other files up to %(other)s, %(count)d at most."
            )
            % values
        )
    if limit.types:
        text += " " + _("Types: %(types)s.") % values
    return text


def platform_of(conversation: Conversation) -> str:
    """Where the customer wrote from, on a channel kind that carries several platforms."""
    kind = conversation.channel.kind
    if kind not in ("meta", "twilio"):
        return ""
    last = (
        conversation.messages.filter(direction="in", kind="message")
        .order_by("-created_at", "-id")
        .only("headers")
        .first()
    )
    platform = (last.headers if last else {}).get("platform")
    if kind == "twilio":
        return "whatsapp" if platform == "whatsapp" else "sms"
    if platform in ("messenger", "instagram", "whatsapp"):
        return platform
    identity = (
        conversation.contact.identities.filter(kind__in=("whatsapp", "messenger", "instagram"))
        .order_by("-created_at")
        .first()
    )
    return identity.kind if identity else "messenger"


def limit_for(conversation: Conversation) -> Limit | None:
    """The channel's limits, or None when it cannot carry files."""
    return LIMITS.get((conversation.channel.kind, platform_of(conversation)))


def size_words(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1024))} KB"


def _head(upload: Outgoing) -> bytes:
    upload.file.seek(0)
    head = upload.file.read(8192)
    upload.file.seek(0)
    return head


def checked(conversation: Conversation, files: Sequence[Outgoing]) -> list[tuple[Outgoing, str]]:
    """Each file with the type it will be stored and sent as, or FileRefused for the first file
    the conversation's channel will not take. Nothing is stored here."""
    if not files:
        return []
    limit = limit_for(conversation)
    if limit is None:
        raise FileRefused(_("This channel cannot carry files."))
    if len(files) > limit.files:
        raise FileRefused(
            _("%(provider)s takes at most %(count)d file(s) in one reply.")
            % {"provider": limit.provider, "count": limit.files},
            limit=limit.files,
        )
    out, total = [], 0
    for upload in files:
        name = safe_name(upload.name)
        content_type, _detected = checked_type(upload.content_type, _head(upload))
        if limit.types and not content_type.startswith(limit.types):
            raise FileRefused(
                _("“%(name)s” is %(type)s; %(provider)s only takes %(types)s.")
                % {
                    "name": name,
                    "type": content_type,
                    "provider": limit.provider,
                    "types": ", ".join(t.rstrip("/") for t in limit.types),
                },
                name=name,
            )
        is_image = content_type.startswith(limit.image_types or ("image/",))
        most = limit.image if is_image else limit.other
        if upload.size > most:
            kind = _("images") if is_image else _("files")
            raise FileRefused(
                _("“%(name)s” is %(size)s; %(provider)s takes %(kind)s up to %(limit)s.")
                % {
                    "name": name,
                    "size": size_words(upload.size),
                    "provider": limit.provider,
                    "kind": kind,
                    "limit": size_words(most),
                },
                name=name,
                limit=most,
            )
        total += upload.size
        if total > limit.total:
            raise FileRefused(
                _("With “%(name)s” the files add up to %(size)s; %(provider)s takes %(limit)s.")
                % {
                    "name": name,
                    "size": size_words(total),
                    "provider": limit.provider,
                    "limit": size_words(limit.total),
                },
                name=name,
                limit=limit.total,
            )
        out.append((upload, content_type))
    return out


def attach(message: Message, files: list[tuple[Outgoing, str]]) -> list[Attachment]:
    """Store checked files as the message's attachments (configured storage)."""
    rows = []
    for upload, content_type in files:
        row = Attachment(
            message=message,
            name=safe_name(upload.name),
            content_type=content_type,
            size=upload.size,
        )
        upload.file.seek(0)
        row.file.save("attachment", upload.file, save=False)
        rows.append(row)
    Attachment.objects.bulk_create(rows)
    return rows


def max_age() -> int:
    return settings.OUTBOUND_FILE_URL_MAX_AGE


def token_for(attachment: Attachment) -> str:
    return signing.dumps([attachment.pk, attachment.message_id], salt=SALT, compress=False)


def attachment_for_token(token: str) -> Attachment | None:
    """The attachment a signed token names, or None when the token is forged or expired."""
    try:
        pk, message_id = signing.loads(token, salt=SALT, max_age=max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return Attachment.objects.filter(pk=pk, message_id=message_id).first()


def public_url(attachment: Attachment) -> str:
    """The file's signed, expiring URL on the deployment's public address (PUBLIC_BASE_URL):
    what a provider that fetches by URL and the API channel's integration get."""
    path = reverse(
        "outbound-file", kwargs={"token": token_for(attachment), "name": _url_name(attachment)}
    )
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _url_name(attachment: Attachment) -> str:
    name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in attachment.name)
    return name.strip("._")[:80] or "file"
