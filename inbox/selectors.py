"""Every non-trivial read of the inbox, scoped by what the user may see."""

from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from rest_framework.exceptions import ValidationError

from inbox.filters import ConversationFilter
from inbox.models import Attachment, Conversation, InboundEvent, Message


def conversation_base_for(user) -> QuerySet:
    return Conversation.objects.visible_to(user)


def conversation_list_for_agent(
    *, user, params, request=None, related=True
) -> tuple[QuerySet, str]:
    """The filtered conversation list and its ordering key. Invalid filters raise a 400 that
    names the field. A page costs a fixed number of queries: the list, then one for tags
    (`related=False`: the bare rows, for callers that read .values() and the tags themselves)."""
    qs = conversation_base_for(user)
    if related:
        qs = qs.select_related("channel", "team", "assignee", "contact").prefetch_related("tags")
    filterset = ConversationFilter(params, queryset=qs, request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs, filterset.ordering_key


def tag_slugs_by_conversation(ids) -> dict[int, list[str]]:
    """{conversation id: [tag slug, ...]} for a page of conversations, in one query."""
    from django.apps import apps

    link = apps.get_model("tagging", "ConversationTag")
    slugs: dict[int, list[str]] = {}
    rows = link.objects.filter(conversation_id__in=ids).values_list("conversation_id", "tag__slug")
    for conversation_id, slug in rows:
        slugs.setdefault(conversation_id, []).append(slug)
    return slugs


TAG_SLUGS_SQL = (
    "ARRAY(SELECT t.slug FROM tagging_conversationtag l JOIN tagging_tag t ON t.id = l.tag_id "
    "WHERE l.conversation_id = inbox_conversation.id)"
)


def tag_slugs_in_query() -> dict:
    """On PostgreSQL, each conversation's tag slugs as an array column of the list's own query
    (`tag_slugs`, for a query on the bare conversation table): an index probe per row of the
    page instead of a second round trip. Elsewhere {} and the caller asks
    tag_slugs_by_conversation."""
    if connection.vendor != "postgresql":
        return {}
    from django.contrib.postgres.fields import ArrayField
    from django.db.models import CharField
    from django.db.models.expressions import RawSQL

    # Fixed SQL, no parameters: nothing from the request reaches it.
    return {"tag_slugs": RawSQL(TAG_SLUGS_SQL, (), output_field=ArrayField(CharField()))}  # noqa: S611


def conversation_get_for_agent(*, user, pk) -> Conversation:
    """One conversation the user may see; anything else is a 404 (never a 403)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    conversation = (
        conversation_base_for(user)
        .select_related("channel", "team", "assignee", "contact")
        .prefetch_related("tags")
        .filter(pk=pk)
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def message_list_for_conversation(*, conversation: Conversation) -> QuerySet:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("sender_contact", "sender_user")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def first_customer_text(*, conversation: Conversation) -> str:
    """The text of the conversation's first customer message; "" when it has none."""
    first = (
        conversation.messages.filter(direction="in")
        .order_by("created_at")
        .values_list("text", flat=True)
        .first()
    )
    return first or ""


def attachment_get_for_user(*, user, pk) -> Attachment:
    attachment = (
        Attachment.objects.select_related("message__conversation")
        .filter(pk=pk, message__conversation__in=conversation_base_for(user))
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment


def contact_get_for_user(*, user, pk):
    """A contact with its identities and the conversations the user may see, on every channel
    (`visible_conversations`). Users who do not see every conversation get a 404 for a contact
    none of whose conversations they see."""
    from accounts.permissions import sees_everything
    from inbox.models import Contact

    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    contact = (
        Contact.objects.filter(pk=pk)
        .prefetch_related(
            "identities",
            Prefetch(
                "conversations",
                queryset=conversation_base_for(user)
                .select_related("channel", "team", "assignee")
                .order_by("-last_message_at", "-id"),
                to_attr="visible_conversations",
            ),
        )
        .first()
    )
    if contact is None:
        raise Http404("No such contact.")
    if not contact.visible_conversations and not sees_everything(user):
        raise Http404("No such contact.")
    return contact


def message_original_get(*, pk: int) -> bytes:
    """The raw mail an inbound email message came from; Http404 when there is none."""
    body = (
        InboundEvent.objects.filter(
            messages__pk=pk, messages__direction=Message.Direction.IN, provider="email"
        )
        .values_list("body", flat=True)
        .first()
    )
    if body is None:
        raise Http404("No original mail for this message.")
    return bytes(body)


def contact_duplicates_for(*, user, contact, limit: int = 5) -> list:
    """Other contacts that look like the same person (the same email, phone or full name, case
    aside), not merged away, that the user may see: the candidates a lead merges into this one."""
    from django.db.models import Exists, OuterRef, Q

    from accounts.permissions import sees_everything
    from inbox.models import Contact

    same = Q()
    if contact.email:
        same |= Q(email__iexact=contact.email)
    if contact.phone:
        same |= Q(phone=contact.phone)
    if contact.name.strip():
        same |= Q(name__iexact=contact.name.strip())
    if not same:
        return []
    candidates = Contact.objects.filter(same, merged_into__isnull=True).exclude(pk=contact.pk)
    if not sees_everything(user):
        visible = conversation_base_for(user).filter(contact=OuterRef("pk"))
        candidates = candidates.filter(Exists(visible))
    return list(candidates.order_by("pk")[:limit])
