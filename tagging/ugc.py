"""The UGC library: conversations tagged `ugc` with the media their customers sent, for the
marketing team to reuse once the customer agreed.

Each conversation is one item. Its permission (UgcItem) is not asked, asked, granted or
refused; an agent asks with one click (a reply from a template on the conversation's own channel,
through inbox.outbound.replies.send_reply) and records the answer with another; a short "yes" /
"no" from the customer after the question records it too (read_answers, a messages_received
hook). Everyone who sees the conversation sees its media as thumbnails (scaled down here, so the
full image never reaches the browser); the full-size file is given only for granted items.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.permissions import can_write
from core.errors import ActionRefused
from inbox import activity, attachments, selectors
from inbox import languages as customer_languages
from inbox.models import Attachment, Conversation, Message
from tagging.models import ConversationTag, UgcItem

UGC_TAG = "ugc"
MEDIA_SHOWN = 12  # per item on a page; the conversation has the rest
THUMB_PX = 320
THUMB_MAX_PIXELS = 40_000_000  # a larger image is shown as a file card, not decoded
THUMB_CACHE_SECONDS = 24 * 3600
# Pillow decodes these; SVG and the rest are shown as file cards.
THUMBNAILED = ("image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/gif", "image/webp")
Permission = UgcItem.Permission


def ugc_conversations_for(
    *,
    user,
    channel: str | None = None,
    created_after=None,
    created_before=None,
    permission: str | None = None,
) -> QuerySet[Conversation]:
    """The `ugc`-tagged conversations `user` sees, narrowed by channel slug, creation time and
    permission state (a conversation with no UgcItem row is `not_asked`)."""
    qs = selectors.conversation_base_for(user).filter(
        pk__in=ConversationTag.objects.filter(tag__slug=UGC_TAG).values("conversation_id")
    )
    if channel:
        qs = qs.filter(channel__slug=channel)
    if created_after:
        qs = qs.filter(created_at__gte=created_after)
    if created_before:
        qs = qs.filter(created_at__lt=created_before)
    if permission == Permission.NOT_ASKED:
        qs = qs.exclude(ugc_item__permission__in=[p for p in Permission.values if p != permission])
    elif permission:
        qs = qs.filter(ugc_item__permission=permission)
    return qs


@dataclass
class Medium:
    attachment: Attachment

    @property
    def is_image(self) -> bool:
        return self.attachment.content_type.lower() in THUMBNAILED


def attach_items(conversations: list[Conversation]) -> list[Conversation]:
    """Give each conversation of a page `.ugc` (its UgcItem, unsaved `not_asked` when none) and
    `.media` (its customer's attachments, newest message first, at most MEDIA_SHOWN): two queries for
    the page."""
    ids = [c.pk for c in conversations]
    items = {
        i.conversation_id: i
        for i in UgcItem.objects.filter(conversation_id__in=ids).select_related(
            "asked_by", "decided_by"
        )
    }
    media: dict[int, list[Medium]] = {pk: [] for pk in ids}
    for a in (
        Attachment.objects.filter(
            message__conversation_id__in=ids, message__direction=Message.Direction.IN
        )
        .select_related("message")
        .order_by("-message__created_at", "-message_id", "pk")  # a message's files in their order
    ):
        shown = media[a.message.conversation_id]
        if len(shown) < MEDIA_SHOWN:
            shown.append(Medium(a))
    for c in conversations:
        c.ugc = items.get(c.pk) or UgcItem(conversation=c)
        c.media = media[c.pk]
    return conversations


def ugc_conversation_get(*, user, pk: int) -> Conversation:
    """A `ugc` conversation `user` sees; 404 otherwise (also when it is not tagged `ugc`)."""
    found = ugc_conversations_for(user=user).select_related("contact", "channel").filter(pk=pk)
    conversation = found.first()
    if conversation is None:
        raise Http404(_("No such conversation in the UGC library."))
    return conversation


def permission_request_text(conversation: Conversation) -> str:
    """The one-click question, in the customer's language (inbox.languages), addressed by the
    contact's first name."""
    name = (conversation.contact.name or "").split()
    with translation.override(
        customer_languages.for_customer(conversation.contact, conversation.channel)
    ):
        return _(
            "Hi {name}, we love what you shared with us! May we feature it on our website and "
            "social media, crediting you? Reply YES to agree or NO to decline."
        ).format(name=name[0] if name else _("there"))


def _locked_item(conversation_id: int) -> UgcItem:
    """The item's row, locked after its conversation's: the order the intake takes them in (a
    reply stored, then read_answers), so a question and the customer's answer never deadlock."""
    list(Conversation.objects.select_for_update().filter(pk=conversation_id).values_list("pk"))
    item, _created = UgcItem.objects.get_or_create(conversation_id=conversation_id)
    return UgcItem.objects.select_for_update().get(pk=item.pk)


def ask_permission(*, user, conversation_id: int) -> UgcItem:
    """Send the permission question on the conversation's channel (send_reply: queued, then
    delivered by its sender after commit) and mark the item asked, by `user`, now. Refused
    (ActionRefused) once asked or answered, or when the channel cannot send now; read-only roles
    get PermissionDenied."""
    if not can_write(user):
        raise PermissionDenied(_("Your role is read-only: agents ask for permission."))
    from inbox.outbound.replies import send_reply

    conversation = ugc_conversation_get(user=user, pk=conversation_id)
    with transaction.atomic():
        item = _locked_item(conversation.pk)
        if item.permission != Permission.NOT_ASKED:
            raise ActionRefused(
                _("Permission is already recorded here: %(state)s.")
                % {"state": item.get_permission_display()}
            )
        message = send_reply(
            conversation_id=conversation.pk,
            actor=user,
            text=permission_request_text(conversation),
        )
        _audit(conversation, user, item.permission, Permission.ASKED)
        item.permission = Permission.ASKED
        item.asked_at, item.asked_by, item.asked_message = timezone.now(), user, message
        item.save()
    return item


def _audit(conversation, actor, before: str, after: str, reason: str = "") -> None:
    """The change in the conversation's audit trail (inbox.activity), beside tags and status."""
    activity.record(
        conversation=conversation,
        actor=actor,
        verb="ugc_permission",
        from_value=before,
        to_value=after,
        reason=reason,
    )


def set_permission(*, user, conversation_id: int, permission: str) -> UgcItem:
    """Record the customer's answer (granted, refused), or put the item back to asked / not
    asked: who and when are kept. Read-only roles get PermissionDenied."""
    if not can_write(user):
        raise PermissionDenied(_("Your role is read-only: agents record permission."))
    conversation = ugc_conversation_get(user=user, pk=conversation_id)
    if permission not in Permission.values:
        raise ValidationError(
            {"permission": [_("Permission is one of: %s.") % ", ".join(Permission.values)]}
        )
    now = timezone.now()
    with transaction.atomic():
        item = _locked_item(conversation.pk)
        if item.permission != permission:
            _audit(conversation, user, item.permission, permission)
        item.permission = permission
        if permission in (Permission.GRANTED, Permission.REFUSED):
            item.decided_at, item.decided_by, item.answer_message = now, user, None
        else:
            item.decided_at = item.decided_by = item.answer_message = None
        if permission == Permission.ASKED and item.asked_at is None:  # asked elsewhere
            item.asked_at, item.asked_by = now, user
        item.save()
    return item


def withheld(attachment: Attachment) -> bool:
    """Whether the file belongs to a `ugc` conversation whose customer has not granted reuse."""
    conversation_id = attachment.message.conversation_id
    if not ConversationTag.objects.filter(
        conversation_id=conversation_id, tag__slug=UGC_TAG
    ).exists():
        return False
    return not UgcItem.objects.filter(
        conversation_id=conversation_id, permission=Permission.GRANTED
    ).exists()


def medium_get(*, user, pk: int) -> Attachment:
    """A customer's attachment in a `ugc` conversation `user` sees; 404 otherwise."""
    attachment = selectors.attachment_get_for_user(user=user, pk=pk)
    if attachment.message.direction != Message.Direction.IN or not (
        ConversationTag.objects.filter(
            conversation_id=attachment.message.conversation_id, tag__slug=UGC_TAG
        ).exists()
    ):
        raise Http404(_("No such file in the UGC library."))
    return attachment


def full_size_get(*, user, pk: int) -> Attachment:
    """The full-size file, for granted items only: PermissionDenied (in words) for the rest."""
    attachment = medium_get(user=user, pk=pk)
    item = UgcItem.objects.filter(conversation_id=attachment.message.conversation_id).first()
    state = item.permission if item else Permission.NOT_ASKED
    if state != Permission.GRANTED:
        raise PermissionDenied(
            _(
                "Only items whose customer granted permission can be downloaded in full size; "
                "this one is: %(state)s."
            )
            % {"state": Permission(state).label}
        )
    return attachment


def thumbnail(attachment: Attachment) -> bytes | None:
    """A JPEG at most THUMB_PX on its longer side, cached; None when the file is not an image
    Pillow reads (or is too large to decode safely): the page shows a file card then."""
    if attachment.content_type.lower() not in THUMBNAILED:
        return None
    # The stored file's key too: a row's id alone could name another file after a restore.
    name = hashlib.sha256(attachment.file.name.encode()).hexdigest()[:16]
    key = f"ugc-thumb:{attachment.pk}:{name}:{THUMB_PX}"
    found = cache.get(key)
    if found is not None:
        return found or None
    data = _scaled(attachment)
    cache.set(key, data or b"", THUMB_CACHE_SECONDS)
    return data


def _scaled(attachment: Attachment) -> bytes | None:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with attachments.opened(attachment) as stored, Image.open(stored) as image:
            if image.width * image.height > THUMB_MAX_PIXELS:
                return None
            image.draft("RGB", (THUMB_PX, THUMB_PX))  # JPEG: decode at a reduced scale
            image = ImageOps.exif_transpose(image)
            image.thumbnail((THUMB_PX, THUMB_PX))
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (attachments.MissingFile, UnidentifiedImageError, OSError, ValueError):
        return None
    except Image.DecompressionBombError:
        return None


# A customer's whole reply, as short answers read: "YES!", "ya", "No thanks." (English and
# Bahasa Indonesia). Anything longer is left to an agent.
_YES = {"yes", "y", "ya", "iya", "yes please", "yep", "yeah", "sure", "ok", "okay", "boleh"}
_YES |= {"i agree", "agree", "setuju", "ya boleh", "iya boleh", "yes you may", "of course"}
_NO = {"no", "n", "nope", "no thanks", "no thank you", "tidak", "nggak", "gak", "tidak boleh"}
_NOT_WORD = re.compile(r"[^\w\s]+")


def answer_in(text: str) -> str | None:
    """Permission.GRANTED or REFUSED when the whole text is a short yes or no, else None."""
    if not text or len(text) > 40:
        return None
    words = " ".join(_NOT_WORD.sub(" ", text.lower()).split())
    if words in _YES:
        return Permission.GRANTED
    if words in _NO:
        return Permission.REFUSED
    return None


def read_answers(*, arrivals) -> None:
    """Hook on messages_received: a short yes / no from the customer on a conversation whose
    permission was asked records it (decided_by empty, answer_message the reply). No query
    unless some arrival is such an answer."""
    answers = {}
    for arrival in arrivals:
        message = arrival.message
        if message.direction != Message.Direction.IN or message.auto_kind:
            continue
        verdict = answer_in(message.text)
        if verdict:
            answers[arrival.conversation.pk] = (verdict, message, arrival.conversation)
    if not answers:
        return
    now = timezone.now()
    for item in UgcItem.objects.select_for_update().filter(
        conversation_id__in=answers, permission=Permission.ASKED
    ):
        verdict, message, conversation = answers[item.conversation_id]
        _audit(conversation, None, item.permission, verdict, "read from the customer's reply")
        item.permission, item.decided_at, item.decided_by = verdict, now, None
        item.answer_message = message
        item.save(
            update_fields=["permission", "decided_at", "decided_by", "answer_message", "updated_at"]
        )
