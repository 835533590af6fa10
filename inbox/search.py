"""Full-text search over a conversation's subject and messages.

PostgreSQL keeps a tsvector per conversation (GIN index), appended to as messages arrive.
SQLite, used embedded, falls back to a substring match.
"""

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from inbox.models import Message

# Enough of each message to find it; a 5 MB mail body must not bloat the index.
INDEXED_CHARS = 20_000


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


APPEND_SQL = (
    "coalesce(search_vector, ''::tsvector) "
    "|| setweight(to_tsvector('simple', %s), 'A') "
    "|| to_tsvector('simple', %s)"
)


def appended_vector(*, text: str, subject: str = "") -> RawSQL | None:
    """The conversation's vector with text (and, for a new conversation, its subject) appended,
    as an expression for an UPDATE of the conversation row; None when there is nothing to index."""
    if not uses_postgres() or not (text or subject):
        return None
    # A constant statement; the texts are bound parameters.
    return RawSQL(APPEND_SQL, [subject[:INDEXED_CHARS], text[:INDEXED_CHARS]])  # noqa: S611


def index_text(*, conversation_id: int, text: str, subject: str = "") -> None:
    """Append text (and, for a new conversation, its subject) to the conversation's vector."""
    if not uses_postgres() or not (text or subject):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_conversation SET search_vector = "
            "coalesce(search_vector, ''::tsvector) "
            "|| setweight(to_tsvector('simple', %s), 'A') "
            "|| to_tsvector('simple', %s) WHERE id = %s",
            [subject[:INDEXED_CHARS], text[:INDEXED_CHARS], conversation_id],
        )


def search(queryset: QuerySet, q: str) -> QuerySet:
    q = q.strip()
    if not q:
        return queryset
    if uses_postgres():
        return queryset.filter(
            search_vector=SearchQuery(q, search_type="websearch", config="simple")
        )
    return queryset.filter(
        Q(subject__icontains=q)
        | Exists(Message.objects.filter(conversation=OuterRef("pk"), text__icontains=q))
    )
