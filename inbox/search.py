"""Full-text search over a conversation's subject and messages.

PostgreSQL keeps a tsvector per conversation (GIN index), appended to as messages arrive.
SQLite, used embedded, matches each word as a regular expression between word boundaries. Either
way a search matches words, never parts of words: "Eve" finds "ask Eve", not "never".

A search lists the newest matches first, a page at a time, and there are two ways to find them:
read every match from the GIN index and sort them (one heap page per match), or walk the list's
own order index and stop after a page (about page / frequency rows). PostgreSQL picks between
them on its own estimate, which is wrong both ways on real inboxes: a word in 0.5% of a million
conversations walked 17,000 rows (16,000 pages) for a page that the GIN index gives from 4,500,
and two words that go together ("dark mode", 1.7%) were estimated as independent, so it sorted
16,600 matches where a walk reads 2,500 rows. `plan_for` makes the choice from the words'
frequencies in the column's statistics; the rows, their order and the cursors are the same
either way (the same condition, spelled so that only one plan applies).
"""

import math
import re
import time

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from inbox.models import Conversation, Message

# Enough of each message to find it; a 5 MB mail body must not bloat the index.
INDEXED_CHARS = 20_000


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


VECTOR_SQL = "setweight(to_tsvector('simple', %s), 'A') || to_tsvector('simple', %s)"
APPEND_SQL = "coalesce(search_vector, ''::tsvector) || " + VECTOR_SQL


def appended_vector(*, text: str, subject: str = "") -> RawSQL | None:
    """The conversation's vector with text (and, for a new conversation, its subject) appended,
    as an expression for an UPDATE of the conversation row; None when there is nothing to index."""
    return _vector(APPEND_SQL, text=text, subject=subject)


def first_vector(*, text: str, subject: str = "") -> RawSQL | None:
    """A new conversation's vector, as an expression for its INSERT (what appended_vector()
    makes of an empty one); None when there is nothing to index."""
    return _vector(VECTOR_SQL, text=text, subject=subject)


def _vector(sql: str, *, text: str, subject: str) -> RawSQL | None:
    if not uses_postgres() or not (text or subject):
        return None
    # A constant statement; the texts are bound parameters.
    return RawSQL(sql, [subject[:INDEXED_CHARS], text[:INDEXED_CHARS]])  # noqa: S611


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


# The two plans `plan_for` chooses between.
INDEX = "index"  # every match from the GIN index, then the newest sorted out
WALK = "walk"  # the list's order index, each row's vector tested, until a page is full

# How long a process trusts the statistics it read: one small catalog query a minute, and a
# table that grew tenfold (a bulk import, the benchmark's steps) is planned as such soon after.
STATS_TTL_S = 60.0
_stats: dict = {"read_at": -math.inf, "words": None}


class _Matches(Func):
    """`vector @@ query` as a function call: the same test, which no index answers, so the
    planner walks an order index; its default estimate (a third of the rows) expects a page
    soon, as it does come for a common word."""

    function = "ts_match_vq"
    output_field = BooleanField()


def _plain_words(q: str) -> list[str] | None:
    """The words of a query of plain words, which websearch_to_tsquery ANDs, lowercased as the
    'simple' configuration does; None for any other syntax (quotes, `or`, `-`, punctuation),
    which is left to the planner."""
    words = q.lower().split()
    if not words or "or" in words or not all(word.isalnum() for word in words):
        return None
    return words


def _read_stats() -> tuple[float, dict[str, float], float] | None:
    """(rows, {word: share of rows holding it}, share below which words were not kept) from
    ANALYZE's statistics of the vector column; None before the first ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs "
            "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() "
            "AND s.tablename = c.relname AND s.attname = 'search_vector' "
            "WHERE c.oid = %s::regclass",
            [Conversation._meta.db_table],
        )
        row = cursor.fetchone()
    if row is None or not row[1] or row[0] <= 0:
        return None
    rows, words, freqs = row
    # The frequencies are followed by their minimum, maximum and null share.
    return rows, dict(zip(words, freqs, strict=False)), min(freqs[: len(words)])


def _word_stats() -> tuple[float, dict[str, float], float] | None:
    """The statistics, read at most once per STATS_TTL_S per process, not once per search."""
    now = time.monotonic()
    if now - _stats["read_at"] > STATS_TTL_S:
        _stats["words"] = _read_stats()
        _stats["read_at"] = now
    return _stats["words"]


def plan_for(q: str) -> str | None:
    """INDEX when the query matches few enough conversations, WALK when many, None when the
    statistics (or the query's syntax) say nothing. The GIN index reads a page per match; a walk
    reads about page / (frequency x share the view shows) rows: the two meet near
    sqrt(page x rows / share), 8 x sqrt(rows) for a view showing 40% of the inbox."""
    words = _plain_words(q)
    stats = _word_stats() if words else None
    if stats is None:
        return None
    rows, frequencies, floor = stats
    # Rows holding all the words: at most those holding the rarest one.
    matches = rows * min(frequencies.get(word, floor) for word in words)
    return INDEX if matches <= 8 * math.sqrt(rows) else WALK


def search(queryset: QuerySet, q: str) -> QuerySet:
    q = q.strip()
    if not q:
        return queryset
    if uses_postgres():
        query = SearchQuery(q, search_type="websearch", config="simple")
        plan = plan_for(q)
        if plan == INDEX:
            # The query ANDed with itself matches the same rows; the planner squares its
            # estimate, expects a handful and reads them from the GIN index.
            return queryset.filter(search_vector=query & query)
        if plan == WALK:
            return queryset.filter(_Matches(F("search_vector"), query))
        return queryset.filter(search_vector=query)
    condition = Q()
    for word in query_words(q):
        pattern = word_pattern(word)
        condition &= Q(subject__iregex=pattern) | Exists(
            Message.objects.filter(conversation=OuterRef("pk"), text__iregex=pattern)
        )
    return queryset.filter(condition)


def query_words(q: str) -> list[str]:
    """The terms of a query, each to be found as a whole word (quotes dropped)."""
    return [word for word in q.replace('"', " ").split() if word.strip("-")]


def word_pattern(word: str) -> str:
    """A case-insensitive pattern (for `__iregex`) finding `word` as a whole word: a boundary on
    each side that starts or ends with a word character. PostgreSQL spells the boundaries
    \\m and \\M (its \\b is a backspace); SQLite runs Python's re, which spells them \\b."""
    start, end = (r"\m", r"\M") if uses_postgres() else (r"\b", r"\b")
    body = re.escape(word)
    if re.match(r"\w", word):
        body = start + body
    if re.search(r"\w$", word):
        body = body + end
    return body


# --- contacts -------------------------------------------------------------------------------------

CONTACT_RESULTS = 8
PHONE_LIKE = re.compile(r"\+?[\d\s().-]+")
MIN_PHONE_DIGITS = 5
# A contact's words in one text, the expression of the trigram index contact_search_trgm
# (migration 0012 on PostgreSQL, which answers both the regular expression and LIKE from it).
CONTACT_HAYSTACK = "(name || ' ' || email || ' ' || phone)"
# The identities matching one word are read first (identity_search_trgm), at most this many:
# a list of ids lets PostgreSQL OR two index scans, where an IN (subquery) reads every contact.
IDENTITY_IDS = 500


def contacts_matching(*, user, q: str, limit: int = CONTACT_RESULTS) -> list:
    """Contacts the user may see (one of their conversations is visible, unless the user sees
    everything) whose name, email, phone or a channel identity holds every word of q, as whole
    words; a number of five digits or more also matches inside phone numbers ("555 0101" finds
    +15550101). Merged-away contacts are left out. Each has `.conversation_count` (visible).
    One query per word for the identities, one for the contacts, one for their identities and
    one for the counts."""
    from django.db.models import Count

    from accounts.permissions import sees_everything
    from inbox.models import ContactIdentity

    words = query_words(q.strip())
    if not words:
        return []
    if PHONE_LIKE.fullmatch(q.strip()):
        digits = re.sub(r"\D", "", q)
        if len(digits) >= MIN_PHONE_DIGITS:
            words = [digits]
    condition = Q()
    for word in words:
        pattern = word_pattern(word)
        handles = Q(external_id__iregex=pattern)
        matches = Q(haystack__iregex=pattern)
        if word.isdigit() and len(word) >= MIN_PHONE_DIGITS:
            handles |= Q(external_id__contains=word)
            matches |= Q(haystack__contains=word)
        owners = ContactIdentity.objects.filter(handles).values_list("contact_id", flat=True)
        condition &= matches | Q(pk__in=list(owners[:IDENTITY_IDS]))
    visible = Conversation.objects.visible_to(user)
    contacts = contacts_with_haystack().filter(condition, merged_into__isnull=True)
    if not sees_everything(user):
        contacts = contacts.filter(Exists(visible.filter(contact=OuterRef("pk"))))
    found = list(contacts.prefetch_related("identities").order_by("name", "pk")[:limit])
    counts = dict(
        visible.filter(contact_id__in=[c.pk for c in found])
        .order_by()
        .values_list("contact_id")
        .annotate(n=Count("id"))
        .values_list("contact_id", "n")
    )
    for contact in found:
        contact.conversation_count = counts.get(contact.pk, 0)
    return found


def contacts_with_haystack() -> QuerySet:
    """Contacts with `haystack`, CONTACT_HAYSTACK, to filter on."""
    from django.db.models import CharField

    from inbox.models import Contact

    # A constant expression over the model's own columns; the words are bound parameters.
    haystack = RawSQL(CONTACT_HAYSTACK, (), output_field=CharField())  # noqa: S611
    return Contact.objects.alias(haystack=haystack)
