"""Evaluate the learned tag suggester on an admin's own CSV files before switching it on."""

import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tagging.suggester import NotEnoughTagging, TagSuggester


def read_rows(path: str, columns: tuple[str, ...]) -> list[dict]:
    """The rows of a CSV file with a header; CommandError when it or a column is missing."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        with file.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                found = ", ".join(header) if header else "no header"
                raise CommandError(f"{path}: missing column {', '.join(missing)} (found: {found})")
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"{path}: not a readable UTF-8 CSV file ({exc})") from exc


class Command(BaseCommand):
    help = (
        "Train a fresh tag suggester on TRAIN.csv (columns text, tag) exactly as production "
        "does, then print one JSON object per row of INPUT.csv (column text), in order: "
        '{"text": ..., "suggestions": [{"tag": ..., "score": ...}]}, listing only the '
        "suggestions it would show (an empty list when it would stay silent)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, metavar="TRAIN.csv")
        parser.add_argument("--predict", required=True, metavar="INPUT.csv")

    def handle(self, *args, **options):
        training = read_rows(options["train"], ("text", "tag"))
        inputs = read_rows(options["predict"], ("text",))
        texts = [row["text"] or "" for row in training]
        tags = [(row["tag"] or "").strip() for row in training]
        try:
            suggester = TagSuggester().fit(texts, tags)
        except NotEnoughTagging as exc:
            raise CommandError(f"{options['train']}: {exc}") from exc
        predict = [row["text"] or "" for row in inputs]
        for text, shown in zip(predict, suggester.suggest_many(predict), strict=True):
            line = {"text": text, "suggestions": [s.as_dict() for s in shown]}
            self.stdout.write(json.dumps(line, ensure_ascii=False))
