"""The deployment's learned tag suggester: trained on the agents' own tagging, stored where the
deployment stores files, loaded lazily.

Training examples are the tags an agent gave a conversation (`ConversationTag.added_by` set;
rules tag with no actor) with the text of the conversation's first inbound message (auto-replies
and bounces left out). Each training run stores a new file under `MODEL_DIR` whose name sorts by
time and records the scikit-learn version and the suggester's format; `current_suggester()`
loads the newest file this code can read, once, and looks for a newer one at most every
`RELOAD_SECONDS`.
"""

from __future__ import annotations

import gzip
import io
import pickle
import threading
import time
from dataclasses import dataclass

import sklearn
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from inbox.models import Message
from tagging.models import ConversationTag
from tagging.suggester import FORMAT_VERSION, TagSuggester

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


def agent_tagging_examples() -> tuple[list[str], list[str]]:
    """(texts, tag slugs) from the tags agents gave conversations, oldest first."""
    first_inbound = (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
            auto_kind="",
        )
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    rows = (
        ConversationTag.objects.filter(added_by__isnull=False)
        .annotate(first_text=Subquery(first_inbound))
        .order_by("added_at", "id")
        .values_list("first_text", "tag__slug")
    )
    pairs = [(text, slug) for text, slug in rows.iterator(chunk_size=2000) if text and text.strip()]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def train_tag_suggester() -> TrainingResult:
    """Train on the agents' tagging and store the model as a new version. Raises
    tagging.suggester.NotEnoughTagging when there is too little to learn from; nothing is
    stored then, and the previous model stays in use."""
    texts, tags = agent_tagging_examples()
    suggester = TagSuggester().fit(texts, tags)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=3, mtime=0) as fh:
        pickle.dump(suggester, fh, protocol=pickle.HIGHEST_PROTOCOL)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    name = default_storage.save(
        f"{MODEL_DIR}/model-{stamp}{_suffix()}", ContentFile(buffer.getvalue())
    )
    forget_loaded_suggester()
    return TrainingResult(
        name=name,
        examples=suggester.examples,
        tags=suggester.tags,
        skipped_tags=suggester.skipped_tags,
        seconds=suggester.training_seconds,
    )


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
