"""The deployment's learned tag suggester: trained on the agents' own tagging, stored where the
deployment stores files, loaded lazily.

Training examples are the tags an agent gave a conversation (`ConversationTag.added_by` set;
rules tag with no actor) with the text of the conversation's first inbound message (auto-replies
and bounces left out). A suggestion an agent accepted on the conversation's page is such a tag
(the agent read the conversation and chose it); a suggestion an agent dismissed makes the
conversation an example of NO_TAG, unless an agent gave it a tag.

Each training run stores a new file under `MODEL_DIR` whose name sorts by time, holds the newest
tag link and decision it could see (so the periodic task counts new tagging cheaply), and records
the scikit-learn version and the suggester's format; `current_suggester()` loads the newest file
this code can read, once, and looks for a newer one at most every `RELOAD_SECONDS`.
"""

from __future__ import annotations

import gzip
import io
import logging
import pickle
import re
import threading
import time
from dataclasses import dataclass

import sklearn
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone

from inbox.models import Message
from tagging.models import ConversationTag, SuggestionDecision
from tagging.suggester import FORMAT_VERSION, NO_TAG, NotEnoughTagging, TagSuggester

logger = logging.getLogger(__name__)

MODEL_DIR = "tag-suggester"
RELOAD_SECONDS = 300


def _suffix() -> str:
    return f"-sk{sklearn.__version__}-f{FORMAT_VERSION}.pickle.gz"


@dataclass(frozen=True)
class TrainingResult:
    name: str
    examples: int
    tags: list[str]
    skipped_tags: list[str]
    seconds: float
    negatives: int = 0


def _first_inbound_text():
    return (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
            auto_kind="",
        )
        .order_by("created_at", "id")
        .values("text")[:1]
    )


def agent_tagging_examples() -> tuple[list[str], list[str]]:
    """(texts, tag slugs) from the tags agents gave conversations, oldest first, then one NO_TAG
    example per conversation with a dismissed suggestion and no agent's tag."""
    rows = (
        ConversationTag.objects.filter(added_by__isnull=False)
        .annotate(first_text=Subquery(_first_inbound_text()))
        .order_by("added_at", "id")
        .values_list("first_text", "tag__slug")
    )
    pairs = [(text, slug) for text, slug in rows.iterator(chunk_size=2000) if text and text.strip()]
    agent_tagged = ConversationTag.objects.filter(
        conversation_id=OuterRef("conversation_id"), added_by__isnull=False
    )
    dismissed = (
        SuggestionDecision.objects.filter(decision=SuggestionDecision.Decision.DISMISSED)
        .filter(~Exists(agent_tagged))
        .annotate(first_text=Subquery(_first_inbound_text()))
        .order_by("created_at", "id")
        .values_list("conversation_id", "first_text")
    )
    seen: set[int] = set()
    for conversation_id, text in dismissed.iterator(chunk_size=2000):
        if conversation_id not in seen and text and text.strip():
            seen.add(conversation_id)
            pairs.append((text, NO_TAG))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _marks() -> tuple[int, int]:
    """The newest agent's tag link and dismissal now: the next model counts new tagging past
    them through the primary keys' indexes."""
    tag_mark = ConversationTag.objects.aggregate(m=Max("pk"))["m"] or 0
    decision_mark = SuggestionDecision.objects.aggregate(m=Max("pk"))["m"] or 0
    return tag_mark, decision_mark


def train_tag_suggester() -> TrainingResult:
    """Train on the agents' tagging and store the model as a new version. Raises
    tagging.suggester.NotEnoughTagging when there is too little to learn from; nothing is
    stored then, and the previous model stays in use."""
    # Read before the examples: tagging that arrives during training counts as new next time.
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    tag_mark, decision_mark = _marks()
    texts, tags = agent_tagging_examples()
    suggester = TagSuggester().fit(texts, tags)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=3, mtime=0) as fh:
        pickle.dump(suggester, fh, protocol=pickle.HIGHEST_PROTOCOL)
    name = default_storage.save(
        f"{MODEL_DIR}/model-{stamp}-c{tag_mark}-d{decision_mark}{_suffix()}",
        ContentFile(buffer.getvalue()),
    )
    forget_loaded_suggester()
    return TrainingResult(
        name=name,
        examples=suggester.examples,
        tags=[t for t in suggester.tags if t != NO_TAG],
        skipped_tags=suggester.skipped_tags,
        seconds=suggester.training_seconds,
        negatives=sum(1 for t in tags if t == NO_TAG),
    )


_MARKS = re.compile(r"/model-\d{8}T\d{12}Z-c(\d+)-d(\d+)-")


def new_tagging_since_model(*, limit: int) -> int:
    """How many agents' tags and dismissals arrived since the newest stored model was trained
    (all of them before the first model), counted up to `limit`."""
    name = latest_model_name()
    tags = ConversationTag.objects.filter(added_by__isnull=False)
    dismissals = SuggestionDecision.objects.filter(decision=SuggestionDecision.Decision.DISMISSED)
    found = _MARKS.search(name or "")
    if found:  # a model stored without marks (the first version's names): all of it is new
        tags = tags.filter(pk__gt=int(found[1]))
        dismissals = dismissals.filter(pk__gt=int(found[2]))
    counted = tags.values("pk")[:limit].count()
    if counted < limit:
        counted += dismissals.values("pk")[: limit - counted].count()
    return counted


def retrain_if_due() -> TrainingResult | None:
    """The periodic retraining: train when TAG_SUGGESTER_RETRAIN_AFTER agents' tags and
    dismissals arrived since the newest model (or before any). None when not due, switched off
    (TAG_SUGGESTER_ENABLED) or too little to learn from yet."""
    if not settings.TAG_SUGGESTER_ENABLED:
        return None
    threshold = max(1, settings.TAG_SUGGESTER_RETRAIN_AFTER)
    if new_tagging_since_model(limit=threshold) < threshold:
        return None
    try:
        result = train_tag_suggester()
    except NotEnoughTagging as exc:
        logger.info("tag suggester not retrained: %s", exc)
        return None
    logger.info(
        "tag suggester retrained on %s examples (%s tags) in %.1f s: %s",
        result.examples,
        len(result.tags),
        result.seconds,
        result.name,
    )
    return result


def latest_model_name() -> str | None:
    """The newest stored model this code can read (same scikit-learn and format), or None."""
    try:
        _dirs, files = default_storage.listdir(MODEL_DIR)
    except (FileNotFoundError, NotADirectoryError):
        return None
    readable = sorted(f for f in files if f.startswith("model-") and f.endswith(_suffix()))
    return f"{MODEL_DIR}/{readable[-1]}" if readable else None


_lock = threading.Lock()
_loaded: dict = {"name": None, "suggester": None, "checked": float("-inf")}


def current_suggester() -> TagSuggester | None:
    """The deployment's suggester, or None before the first training. Loaded on first use and
    kept in the process; the storage is asked for a newer version at most every RELOAD_SECONDS.
    The file is the deployment's own (written by train_tag_suggester), hence pickle."""
    now = time.monotonic()
    if now - _loaded["checked"] < RELOAD_SECONDS:
        return _loaded["suggester"]
    with _lock:
        if now - _loaded["checked"] < RELOAD_SECONDS:
            return _loaded["suggester"]
        name = latest_model_name()
        if name != _loaded["name"]:
            suggester = None
            if name is not None:
                with default_storage.open(name, "rb") as raw, gzip.GzipFile(fileobj=raw) as fh:
                    suggester = pickle.load(fh)  # noqa: S301 - the deployment's own file
            _loaded["name"], _loaded["suggester"] = name, suggester
        _loaded["checked"] = now
        return _loaded["suggester"]


def forget_loaded_suggester() -> None:
    """Make the next current_suggester() look at the storage again."""
    with _lock:
        _loaded.update(name=None, suggester=None, checked=float("-inf"))
