"""The feature-request board: the conversations tagged as feature requests, grouped into requests.

Near-duplicates go together ("Export to PDF would be great" and "please add PDF export" are one
request): each conversation's subject and first inbound message become the words that carry its
meaning (stop words and request phrasing such as "please add", "would be great" left out, plural
and -ing/-ed endings cut), weighted by TF-IDF; conversations are joined by average-linkage
clustering on cosine similarity, and two groups merge only while their members are on average at
least `threshold` alike (FEATURE_REQUEST_SIMILARITY, or `?threshold=` per request: higher keeps
groups tighter). Computed on read from the newest SAMPLE conversations; nothing is stored.

A request counts distinct customers (contacts: one asking three times counts once), its
conversations, when it was first and last asked, per week, and on which channels.

People act on a request (a status, a title, a merge, a split): it is then stored (FeatureRequest,
its conversations as FeatureRequestMember) and its conversations stay together whatever the
threshold. A new conversation joins a stored request when it falls in the same similarity group
as that request's conversations (the request with most of them there).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.utils import timezone

from inbox import selectors
from inbox.models import Conversation, Message
from tagging.models import FeatureRequest, FeatureRequestMember, Tag

SAMPLE = 2000  # newest conversations grouped per request: 0.5-0.8 s on the 2-core dev box
TEXT_CHARS = 2000
TITLE_CHARS = 120

_STOPWORDS = """a about above after again all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more most my
no nor not now of off on once only or other our ours out over own re same she should so some such
than that the their them then there these they this those through to too under until up us very
was we were what when where which while who whom why will with would you your yours hi hello hey
also get got like can't don't i'm it's we're you're i'd we'd it'd thank thanks team guys"""
# How people phrase a request, not what they request.
_REQUEST_WORDS = """add adding added allow allowing able option options feature features request
requests requested requesting suggestion suggest idea please great nice love awesome cool wish
want wanted wanting need needed would could possible possibility support supported supporting
really much lot think be it make making new way ability"""
IGNORED = frozenset(_STOPWORDS.split()) | frozenset(_REQUEST_WORDS.split())
WORD = re.compile(r"[a-z0-9][a-z0-9'+]*")


def _stem(word: str) -> str:
    for suffix in ("ing", "ied", "ed", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def meaning_words(text: str) -> list[str]:
    """The words of a request that say what is requested."""
    return [_stem(w) for w in WORD.findall(text.lower()) if w not in IGNORED and len(w) > 1]


def group_texts(texts: list[str], *, threshold: float) -> list[list[int]]:
    """Indexes of `texts` in groups of near-duplicates, each group in the order given."""
    if not texts:
        return []
    docs = [meaning_words(t) for t in texts]
    if len(texts) == 1 or not any(docs):
        return [[i] for i in range(len(texts))]
    # Imported here: scikit-learn and SciPy take seconds to import, and every web process
    # imports this module with the URLs; only grouping needs them.
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Whole words, and their letters (3-5 within each word) so that "integrate" meets
    # "integration": the cosine of the two halves is the mean of the two similarities.
    words = TfidfVectorizer(analyzer=lambda w: w, sublinear_tf=True).fit_transform(docs)
    letters = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True
    ).fit_transform([" ".join(d) for d in docs])
    similarity = ((words @ words.T) + (letters @ letters.T)).toarray() / 2
    distance = np.clip(1.0 - similarity, 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    # Merged while the average distance is at most 1 - threshold (similarity at least threshold).
    labels = fcluster(tree, t=1.0 - threshold + 1e-9, criterion="distance")
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), []).append(i)
    return list(groups.values())


@dataclass
class BoardRequest:
    key: int  # the id of its oldest conversation: any member's id finds the request
    id: int | None  # the stored FeatureRequest, None while nobody acted on it
    status: str
    title: str
    customers: int
    conversations: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    channels: list[str]
    weekly: list[dict] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)


def _title(subject: str, text: str) -> str:
    words = " ".join((subject or text or "").split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"


_COLUMNS = (
    "pk",
    "subject",
    "first_text",
    "contact_id",
    "channel__slug",
    "created_at",
    "feature_request_member__request_id",
)


def _rows(user, *, created_after=None, created_before=None, channel=None) -> list[tuple]:
    """The conversations on the board, oldest first: every stored request's, and the newest
    SAMPLE of the others."""
    tag = Tag.objects.filter(slug=settings.REPORTS_FEATURE_REQUEST_TAG).first()
    if tag is None:
        return []
    first_text = (
        Message.objects.filter(
            conversation_id=OuterRef("pk"),
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
            auto_kind="",
        )
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    qs = selectors.conversation_base_for(user).filter(tag_links__tag=tag)
    if created_after:
        qs = qs.filter(created_at__gte=created_after)
    if created_before:
        qs = qs.filter(created_at__lt=created_before)
    if channel:
        qs = qs.filter(channel__slug=channel)
    qs = qs.annotate(first_text=Subquery(first_text))
    stored = list(qs.filter(feature_request_member__isnull=False).values_list(*_COLUMNS))
    loose = list(
        qs.filter(feature_request_member__isnull=True)
        .order_by("-created_at", "-id")
        .values_list(*_COLUMNS)[:SAMPLE]
    )
    return sorted(stored + loose, key=lambda r: (r[5], r[0]))


def _grouped(rows: list[tuple], threshold: float) -> list[tuple[int | None, list[int]]]:
    """(stored request id or None, indexes of rows) per request."""
    texts = [f"{subject or ''}\n{(text or '')[:TEXT_CHARS]}" for _, subject, text, *_ in rows]
    stored: dict[int, list[int]] = {}
    computed: list[list[int]] = []
    for members in group_texts(texts, threshold=threshold):
        votes = Counter(rows[i][6] for i in members if rows[i][6])
        target = min(votes, key=lambda r: (-votes[r], r)) if votes else None
        loose = []
        for i in members:
            home = rows[i][6] or target
            if home:
                stored.setdefault(home, []).append(i)
            else:
                loose.append(i)
        if loose:
            computed.append(loose)
    return [(rid, sorted(m)) for rid, m in stored.items()] + [(None, m) for m in computed]


def feature_requests_for(
    *,
    user,
    threshold: float | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    channel: str | None = None,
) -> list[BoardRequest]:
    """The feature requests in the conversations `user` may see, most customers first."""
    if threshold is None:
        threshold = settings.FEATURE_REQUEST_SIMILARITY
    rows = _rows(user, created_after=created_after, created_before=created_before, channel=channel)
    groups = _grouped(rows, threshold)
    saved = FeatureRequest.objects.in_bulk([rid for rid, _ in groups if rid])
    requests = []
    for rid, members in groups:
        picked = [rows[i] for i in members]
        created = [r[5] for r in picked]
        weeks = Counter((c.date() - dt.timedelta(days=c.weekday())).isoformat() for c in created)
        stored = saved.get(rid) if rid else None
        requests.append(
            BoardRequest(
                key=picked[0][0],
                id=stored.pk if stored else None,
                status=stored.status if stored else FeatureRequest.Status.NEW,
                title=stored.title if stored else _title(picked[0][1], picked[0][2]),
                customers=len({r[3] for r in picked}),
                conversations=len(picked),
                first_seen=min(created),
                last_seen=max(created),
                channels=sorted({r[4] for r in picked}),
                weekly=[{"week": w, "conversations": n} for w, n in sorted(weeks.items())],
                conversation_ids=[r[0] for r in picked],
            )
        )
    requests.sort(key=lambda r: (-r.customers, -r.conversations, -r.last_seen.timestamp()))
    return requests


# --- people act on requests: writes ------------------------------------------------------------


def feature_request_get(*, user, key: int, threshold: float | None = None) -> BoardRequest:
    """The request holding conversation `key` as the board shows it to `user` (404 if none)."""
    for found in feature_requests_for(user=user, threshold=threshold):
        if key in found.conversation_ids:
            return found
    raise Http404("No feature request holds that conversation.")


def _store(found: BoardRequest) -> FeatureRequest:
    """The stored request for `found`, created if needed, holding all its conversations."""
    request = (
        FeatureRequest.objects.select_for_update().get(pk=found.id)
        if found.id
        else FeatureRequest.objects.create(title=found.title)
    )
    _place(request, found.conversation_ids)
    return request


def _place(request: FeatureRequest, conversation_ids: list[int]) -> None:
    placed = FeatureRequestMember.objects.filter(conversation_id__in=conversation_ids)
    have = set(placed.values_list("conversation_id", flat=True))
    placed.exclude(request=request).update(request=request)
    FeatureRequestMember.objects.bulk_create(
        [
            FeatureRequestMember(request=request, conversation_id=pk)
            for pk in conversation_ids
            if pk not in have
        ]
    )


@transaction.atomic
def update_feature_request(
    *, user, key: int, threshold: float | None = None, status: str = "", title: str = ""
) -> BoardRequest:
    """Set a request's status and/or title; the request is stored with its conversations."""
    request = _store(feature_request_get(user=user, key=key, threshold=threshold))
    if status:
        request.status = FeatureRequest.Status(status)
    if title.strip():
        request.title = title.strip()[:200]
    request.save()
    return feature_request_get(user=user, key=key, threshold=threshold)


@transaction.atomic
def merge_feature_requests(
    *, user, key: int, others: list[int], threshold: float | None = None
) -> BoardRequest:
    """One request from several (each named by any of its conversations): the first keeps its
    status and title; the others' stored requests go."""
    target = feature_request_get(user=user, key=key, threshold=threshold)
    merged = [feature_request_get(user=user, key=k, threshold=threshold) for k in others]
    merged = [m for m in merged if m.key != target.key]
    if not merged:
        raise ValidationError({"requests": ["Name at least one other request to merge."]})
    request = _store(target)
    for other in merged:
        _place(request, other.conversation_ids)
        if other.id and other.id != request.pk:
            FeatureRequest.objects.filter(pk=other.id, members__isnull=True).delete()
    return feature_request_get(user=user, key=key, threshold=threshold)


@transaction.atomic
def split_feature_request(
    *, user, key: int, conversations: list[int], threshold: float | None = None
) -> BoardRequest:
    """Move some conversations of a request into a new request of their own (returned); both
    are stored so that they stay apart."""
    found = feature_request_get(user=user, key=key, threshold=threshold)
    moving = sorted(set(conversations))
    strangers = [pk for pk in moving if pk not in found.conversation_ids]
    if strangers:
        raise ValidationError(
            {"conversations": [f"Not in this request: {', '.join(map(str, strangers))}."]}
        )
    if not moving or len(moving) == len(found.conversation_ids):
        raise ValidationError(
            {"conversations": ["Name some, but not all, of the request's conversations."]}
        )
    _store(found)
    first = Conversation.objects.filter(pk=moving[0]).values_list("subject", flat=True).first()
    text = (
        Message.objects.filter(conversation_id=moving[0], direction=Message.Direction.IN)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    _place(FeatureRequest.objects.create(title=_title(first or "", text or "")), moving)
    return feature_request_get(user=user, key=moving[0], threshold=threshold)


def message_feature_request_customers(
    *, user, key: int, text: str, threshold: float | None = None
) -> dict:
    """Tell every customer of a shipped request, once: one reply per distinct customer, on their
    latest conversation of the request (inbox.outbound.replies.send_reply, each in its own
    transaction, so a channel that cannot send now refuses only its own). Returns the
    conversations replied to and those refused with the reason."""
    from accounts.permissions import can_write
    from core.errors import ActionRefused
    from inbox.outbound.replies import send_reply

    if not can_write(user):
        raise PermissionDenied("Your role is read-only.")
    if not text.strip():
        raise ValidationError({"text": ["Write the message to send."]})
    found = feature_request_get(user=user, key=key, threshold=threshold)
    with transaction.atomic():
        request = FeatureRequest.objects.select_for_update().filter(pk=found.id).first()
        if request is None or request.status != FeatureRequest.Status.SHIPPED:
            raise ValidationError({"detail": ["Mark the request shipped first."]})
        if request.customers_messaged_at:
            raise ValidationError(
                {
                    "detail": [
                        f"Its customers were messaged at {request.customers_messaged_at:%Y-%m-%d %H:%M} UTC."
                    ]
                }
            )
        request.customers_messaged_at = timezone.now()
        request.save(update_fields=["customers_messaged_at", "updated_at"])
    latest: dict[int, int] = {}
    for pk, contact_id in (
        Conversation.objects.filter(pk__in=found.conversation_ids)
        .order_by("created_at", "id")
        .values_list("pk", "contact_id")
    ):
        latest[contact_id] = pk
    sent, refused = [], []
    for pk in sorted(latest.values()):
        try:
            with transaction.atomic():
                send_reply(conversation_id=pk, actor=user, text=text)
        except (ActionRefused, PermissionDenied) as exc:
            refused.append({"conversation": pk, "reason": str(exc)})
        else:
            sent.append(pk)
    return {"customers": len(latest), "sent": sent, "refused": refused}
