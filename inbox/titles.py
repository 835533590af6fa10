"""A conversation's title, the same on every page: its subject, else the first line of the
customer's first message. Never the agent's reply (the snippet is the latest message, often
ours), and "(no subject)" only when the customer has not written at all."""

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr

from inbox.models import Conversation, Message

TITLE_CHARS = 80
PREVIEW_CHARS = 140
NO_TITLE = "(no subject)"
# Enough of the first message to find its first line; a 5 MB mail body never leaves the database.
FIRST_CHARS = 400


def one_line(text: str, limit: int = TITLE_CHARS) -> str:
    """The first non-blank line of text, whitespace collapsed, cut at limit with an ellipsis."""
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def title_for(subject: str, first_customer_text: str | None) -> str:
    return one_line(subject) or one_line(first_customer_text or "") or NO_TITLE


def first_customer_texts(conversation_ids) -> dict[int, str]:
    """{conversation id: the start of its first inbound customer message}, in one query (each
    conversation's first one is read along the msg_thread index)."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    first = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
        )
        .exclude(text="")
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    rows = (
        Conversation.objects.filter(pk__in=ids)
        .annotate(first_text=Substr(Subquery(first), 1, FIRST_CHARS))
        .values_list("pk", "first_text")
    )
    return {pk: text for pk, text in rows if text}


def attach_titles(conversations) -> list:
    """Sets `.title` on each conversation; one query for those without a subject, none when every
    one has a subject."""
    conversations = list(conversations)
    untitled = [c.pk for c in conversations if not one_line(c.subject)]
    texts = first_customer_texts(untitled)
    for conversation in conversations:
        conversation.title = title_for(conversation.subject, texts.get(conversation.pk))
    return conversations


def last_customer_texts(conversation_ids) -> dict[int, str]:
    """{conversation id: the start of its latest inbound customer message}, in one query."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    last = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
        )
        .exclude(text="")
        .order_by("-created_at", "-id")
        .values("text")[:1]
    )
    rows = (
        Conversation.objects.filter(pk__in=ids)
        .annotate(last_text=Substr(Subquery(last), 1, FIRST_CHARS))
        .values_list("pk", "last_text")
    )
    return {pk: text for pk, text in rows if text}


def attach_previews(conversations) -> list:
    """Sets `.preview` (call after attach_titles): one line of the customer's latest message,
    the list row's second thought after its title; blank when it would repeat the title or the
    customer has not written. One query for the page (never the snippet: it may be our reply)."""
    conversations = list(conversations)
    texts = last_customer_texts(c.pk for c in conversations)
    for c in conversations:
        c.preview = one_line(texts.get(c.pk, ""), PREVIEW_CHARS)
        title = getattr(c, "title", "")
        if c.preview and title and (c.preview == title or c.preview.startswith(title.rstrip("…"))):
            c.preview = ""
    return conversations


def title_from_thread(conversation: Conversation, messages) -> str:
    """The title from a thread already read (the conversation page has it), without a query."""
    first = next(
        (
            m.text
            for m in messages
            if m.direction == Message.Direction.IN and m.kind == Message.Kind.MESSAGE and m.text
        ),
        None,
    )
    return title_for(conversation.subject, first)
