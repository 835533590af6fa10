"""Tags learned from the agents' own tagging: a text classifier that stays silent unless sure.

Pure machine learning, no database: `TagSuggester.fit()` takes texts and the tags agents gave
them, `suggest()` returns only the suggestions the product would show. The same code trains the
deployment's model (`train_tag_suggester`) and the admins' evaluation (`suggest_tags`), so what
an admin measures is what production does.

Model: TF-IDF over word 1-2 grams and char_wb 2-5 grams (sublinear tf), a linear SVM, and
sigmoid calibration by 3-fold cross-validation so that a score is a probability. Silence rule:
show a tag only when its calibrated probability is at least `THRESHOLD`. Because the
probabilities of one message sum to 1 and THRESHOLD > 0.5, at most one tag is ever shown.

THRESHOLD was chosen on the intents corpus's validation.csv (coverage against precision) and
out_of_scope_train.csv (silence on messages that fit no tag), never on its test files; the
trade-off table is in docs/benchmarks.md.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

# Chosen on validation.csv and out_of_scope_train.csv (see the module docstring).
THRESHOLD = 0.62
# A tag needs this many examples to be learned: calibration cross-validates in CV_FOLDS folds.
CV_FOLDS = 3
MIN_EXAMPLES_PER_TAG = CV_FOLDS
RANDOM_STATE = 0
# Text beyond this is not read: the start of a message says what it is about, and a huge body
# must not make a suggestion slow.
MAX_CHARS = 2_000
FORMAT_VERSION = 1
# The label of examples that should get no tag (the deployment's dismissed suggestions): learned
# like a tag, so similar messages get a lower score for every real tag, and never shown.
NO_TAG = "__none__"


class NotEnoughTagging(ValueError):
    """Too few tagged examples to learn from (fewer than two tags with enough examples; NO_TAG
    is not a tag)."""


@dataclass(frozen=True)
class Suggestion:
    tag: str
    score: float

    def as_dict(self) -> dict:
        return {"tag": self.tag, "score": self.score}


def _normalize(text: str) -> str:
    return (text or "")[:MAX_CHARS].lower()


class TagSuggester:
    """Fit once, then suggest. Picklable: the deployment stores it as one file."""

    format_version = FORMAT_VERSION
    keep_classifier = False  # the equivalence test compares with scikit-learn's own predict

    def __init__(self, *, threshold: float = THRESHOLD):
        self.threshold = threshold
        self.vectorizer = None
        self.classifier = None
        self._folds: list[tuple] = []
        self.tags: list[str] = []
        self.skipped_tags: list[str] = []
        self.examples = 0
        self.training_seconds = 0.0

    # -- training ---------------------------------------------------------------------------

    def fit(self, texts: list[str], tags: list[str]) -> TagSuggester:
        """Learn from (text, tag) pairs. Tags with fewer than MIN_EXAMPLES_PER_TAG examples are
        left out (recorded in `skipped_tags`); raises NotEnoughTagging when fewer than two
        tags remain."""
        if len(texts) != len(tags):
            raise ValueError("texts and tags differ in length")
        started = time.perf_counter()
        counts = Counter(t for t in tags if t)
        learnable = {t for t, n in counts.items() if n >= MIN_EXAMPLES_PER_TAG}
        self.skipped_tags = sorted(set(counts) - learnable - {NO_TAG})
        pairs = [(_normalize(x), t) for x, t in zip(texts, tags, strict=True) if t in learnable]
        if len(learnable - {NO_TAG}) < 2:
            raise NotEnoughTagging(
                f"need at least two tags with {MIN_EXAMPLES_PER_TAG} or more examples each; "
                f"found {len(learnable - {NO_TAG})}"
            )
        x = [p[0] for p in pairs]
        y = [p[1] for p in pairs]
        self.vectorizer = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(2, 5),
                sublinear_tf=True,
                min_df=2 if len(x) >= 1000 else 1,
            ),
        )
        features = self.vectorizer.fit_transform(x)
        self.classifier = CalibratedClassifierCV(
            LinearSVC(C=1.0, random_state=RANDOM_STATE),
            cv=CV_FOLDS,
            method="sigmoid",
        )
        self.classifier.fit(features, y)
        self.tags = [str(t) for t in self.classifier.classes_]
        self._compile()
        self.examples = len(x)
        self.training_seconds = time.perf_counter() - started
        return self

    # -- suggesting -------------------------------------------------------------------------

    def _compile(self) -> None:
        """Keep what predicting needs as plain arrays, float32, and drop the rest.

        CalibratedClassifierCV.predict_proba loops in Python over one calibrator per tag and
        fold (450 for 150 tags: ~20 ms a message); the same sums as matrix operations take
        about 1 ms, and the stored model is half the size. `probabilities()` equals
        `CalibratedClassifierCV.predict_proba` (tests/tagging/test_suggester.py checks it).
        """
        classes = self.classifier.classes_
        self._folds = []
        for calibrated in self.classifier.calibrated_classifiers_:
            estimator = calibrated.estimator
            self._folds.append(
                (
                    np.ascontiguousarray(estimator.coef_.T, dtype=np.float32),
                    estimator.intercept_.astype(np.float32),
                    np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
                    np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
                    np.searchsorted(classes, estimator.classes_),
                )
            )
        for _name, vectorizer in self.vectorizer.transformer_list:
            # The terms min_df left out: only kept for introspection (scikit-learn's advice).
            vectorizer.stop_words_ = None
        if not self.keep_classifier:
            self.classifier = None

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in `self.tags` order."""
        if not self._folds:
            raise RuntimeError("the suggester is not trained")
        # float32 like the weights: a mixed product would copy the weights on every call
        features = self.vectorizer.transform([_normalize(t) for t in texts]).astype(np.float32)
        n_tags = len(self.tags)
        total = np.zeros((features.shape[0], n_tags))
        for weights, intercept, a, b, columns in self._folds:
            decision = np.asarray(features @ weights, dtype=np.float64) + intercept
            calibrated = expit(-(decision * a + b))
            proba = np.zeros_like(total)
            if n_tags == 2:  # one decision column, for the second tag
                proba[:, 1] = calibrated[:, 0]
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                proba[:, columns] = calibrated
                denominator = proba.sum(axis=1, keepdims=True)
                proba = np.divide(
                    proba,
                    denominator,
                    out=np.full_like(proba, 1 / n_tags),
                    where=denominator != 0,
                )
            total += proba
        return np.clip(total / len(self._folds), 0.0, 1.0)

    def shown(self, row: np.ndarray) -> list[Suggestion]:
        """The silence rule applied to one row of probabilities, best first (NO_TAG winning
        means silence)."""
        order = np.argsort(-row, kind="stable")
        return [
            Suggestion(tag=self.tags[i], score=round(float(row[i]), 4))
            for i in order
            if row[i] >= self.threshold and self.tags[i] != NO_TAG
        ]

    def suggest_many(self, texts: list[str]) -> list[list[Suggestion]]:
        texts = list(texts)
        if not texts:
            return []
        return [self.shown(row) for row in self.probabilities(texts)]

    def suggest(self, text: str) -> list[Suggestion]:
        return self.suggest_many([text])[0]
