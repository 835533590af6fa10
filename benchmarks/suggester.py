"""The learned tag suggester on the shared intents corpus (issue 24).

    python -m benchmarks.suggester            # the figures, measured on test.csv
    python -m benchmarks.suggester --tune     # the threshold trade-off on validation.csv

Trained on train.csv. On test.csv: precision of the first suggestion where it suggests
anything, and coverage (the share with a suggestion). On out_of_scope_test.csv: the share it
stays silent on. Training seconds and the latency of one suggestion (p50, p95). `--tune` reads
only validation.csv and out_of_scope_train.csv, the files the threshold may be chosen on.
No database, no Django: the suggester is plain Python.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from tagging.suggester import THRESHOLD, TagSuggester

CORPUS = Path(
    os.environ.get(
        "BENCH_INTENTS_DIR",
        Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "intents",
    )
)
TARGETS = {
    "precision": 0.96,
    "coverage": 0.85,
    "oos_silent": 0.80,
    "training_seconds": 60.0,
    "latency_p95_ms": 20.0,
}


def read_csv(path: Path) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r.get("tag") or "" for r in rows]


def train(corpus: Path = CORPUS) -> TagSuggester:
    texts, tags = read_csv(corpus / "train.csv")
    return TagSuggester().fit(texts, tags)


def selective_figures(suggester: TagSuggester, texts, tags) -> dict:
    shown = suggester.suggest_many(texts)
    answered = [(s[0].tag, t) for s, t in zip(shown, tags, strict=True) if s]
    right = sum(1 for guess, truth in answered if guess == truth)
    return {
        "precision": right / len(answered) if answered else 1.0,
        "coverage": len(answered) / len(texts),
    }


def silent_share(suggester: TagSuggester, texts) -> float:
    return sum(1 for s in suggester.suggest_many(texts) if not s) / len(texts)


def latency_ms(suggester: TagSuggester, texts, n: int = 500) -> dict:
    timings = []
    for text in texts[:n]:
        started = time.perf_counter()
        suggester.suggest(text)
        timings.append((time.perf_counter() - started) * 1000)
    q = statistics.quantiles(timings, n=100)
    return {"latency_p50_ms": q[49], "latency_p95_ms": q[94]}


def measure(corpus: Path = CORPUS) -> dict:
    suggester = train(corpus)
    texts, tags = read_csv(corpus / "test.csv")
    oos, _ = read_csv(corpus / "out_of_scope_test.csv")
    figures = {
        "threshold": suggester.threshold,
        "tags": len(suggester.tags),
        "examples": suggester.examples,
        "training_seconds": suggester.training_seconds,
        **selective_figures(suggester, texts, tags),
        "oos_silent": silent_share(suggester, oos),
        **latency_ms(suggester, texts),
    }
    return figures


def meets_targets(figures: dict) -> dict[str, bool]:
    return {
        "precision": figures["precision"] >= TARGETS["precision"],
        "coverage": figures["coverage"] >= TARGETS["coverage"],
        "oos_silent": figures["oos_silent"] >= TARGETS["oos_silent"],
        "training_seconds": figures["training_seconds"] <= TARGETS["training_seconds"],
        "latency_p95_ms": figures["latency_p95_ms"] <= TARGETS["latency_p95_ms"],
    }


def tune(corpus: Path = CORPUS) -> list[dict]:
    """Precision, coverage and OOS silence per threshold, on the tuning files only."""
    suggester = train(corpus)
    texts, tags = read_csv(corpus / "validation.csv")
    oos, _ = read_csv(corpus / "out_of_scope_train.csv")
    probs = suggester.probabilities(texts)
    oos_top = suggester.probabilities(oos).max(axis=1)
    top = probs.max(axis=1)
    right = np.array(suggester.tags)[probs.argmax(axis=1)] == np.array(tags)
    table = []
    for threshold in np.arange(0.40, 0.801, 0.02):
        shown = top >= threshold
        table.append(
            {
                "threshold": round(float(threshold), 2),
                "precision": float(right[shown].mean()) if shown.any() else 1.0,
                "coverage": float(shown.mean()),
                "oos_silent": float((oos_top < threshold).mean()),
            }
        )
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", action="store_true", help="threshold table on validation.csv")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if not (CORPUS / "train.csv").exists():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    if args.tune:
        table = tune()
        if args.json:
            print(json.dumps(table, indent=2))
            return 0
        print(f"threshold  precision  coverage  oos_silent   (validation; chosen: {THRESHOLD})")
        for row in table:
            print(
                f"{row['threshold']:9.2f}  {row['precision']:9.2%}  {row['coverage']:8.2%}"
                f"  {row['oos_silent']:10.2%}"
            )
        return 0
    figures = measure()
    ok = meets_targets(figures)
    if args.json:
        print(json.dumps({"figures": figures, "targets": TARGETS, "met": ok}, indent=2))
        return 0
    print(f"tag suggester on {CORPUS} (threshold {figures['threshold']})")
    print(f"  trained on {figures['examples']} examples, {figures['tags']} tags")
    rows = [
        ("precision (test.csv, first suggestion)", f"{figures['precision']:.2%}", "precision"),
        ("coverage (test.csv)", f"{figures['coverage']:.2%}", "coverage"),
        ("silent on out_of_scope_test.csv", f"{figures['oos_silent']:.2%}", "oos_silent"),
        ("training seconds", f"{figures['training_seconds']:.1f}", "training_seconds"),
        ("suggestion latency p50 ms", f"{figures['latency_p50_ms']:.2f}", None),
        ("suggestion latency p95 ms", f"{figures['latency_p95_ms']:.2f}", "latency_p95_ms"),
    ]
    for label, value, key in rows:
        verdict = "" if key is None else ("  ok" if ok[key] else "  MISSED")
        target = "" if key is None else f"  (target {TARGETS[key]})"
        print(f"  {label:42s} {value:>8s}{target}{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
