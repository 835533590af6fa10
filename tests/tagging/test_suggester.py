"""The learned tag suggester (issue 24): the evaluation command and the targets on the corpus."""

import csv
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tagging.suggester import NotEnoughTagging, TagSuggester

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "intents"

TRAINING = {
    "refund": [
        "i want a refund for my order",
        "please refund my money",
        "how do i get my money back",
        "refund the payment i made yesterday",
        "can i have a refund please",
        "i was charged twice, refund one of them",
        "give me my money back for this order",
        "request a refund for the broken item",
    ],
    "password-reset": [
        "i forgot my password",
        "reset my password please",
        "how do i change my password",
        "my password does not work anymore",
        "i cannot log in, forgot the password",
        "send me a password reset link",
        "password reset email never arrived",
        "locked out, need a new password",
    ],
    "shipping": [
        "where is my parcel",
        "when will my order be shipped",
        "track my delivery",
        "my package has not arrived yet",
        "how long does shipping take",
        "the courier lost my parcel",
        "delivery status of my order",
        "has my package been shipped",
    ],
}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def train_csv(tmp_path):
    rows = [[text, tag] for tag, texts in TRAINING.items() for text in texts]
    return write_csv(tmp_path / "train.csv", ["text", "tag"], rows)


def suggest_tags(train, predict) -> list[dict]:
    out = io.StringIO()
    call_command("suggest_tags", "--train", str(train), "--predict", str(predict), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_suggest_tags_prints_one_object_per_row_in_order(train_csv, tmp_path):
    texts = [
        "i forgot my password, please reset it",
        "xq zzv plork 9931 wubba",
        "where is my parcel, it has not arrived",
        "refund my order please, i want my money back",
        "",
    ]
    predict = write_csv(tmp_path / "in.csv", ["id", "text"], [[i, t] for i, t in enumerate(texts)])

    lines = suggest_tags(train_csv, predict)

    assert [line["text"] for line in lines] == texts
    assert all(set(line) == {"text", "suggestions"} for line in lines)
    for line in lines:
        for s in line["suggestions"]:
            assert set(s) == {"tag", "score"}
            assert 0 <= s["score"] <= 1
        scores = [s["score"] for s in line["suggestions"]]
        assert scores == sorted(scores, reverse=True)
    firsts = [line["suggestions"][0]["tag"] if line["suggestions"] else None for line in lines]
    assert firsts[0] == "password-reset"
    assert firsts[2] == "shipping"
    assert firsts[3] == "refund"
    assert lines[1]["suggestions"] == []
    assert lines[4]["suggestions"] == []


def test_silent_on_gibberish(train_csv, tmp_path):
    gibberish = ["qwxz blorp fnord zzkv", "asdfgh jkl zxcvb", "1234 5678 9999", "!!! ??? ..."]
    predict = write_csv(tmp_path / "in.csv", ["text"], [[t] for t in gibberish])

    assert [line["suggestions"] for line in suggest_tags(train_csv, predict)] == [[]] * 4


def test_missing_file_is_a_clear_error(train_csv, tmp_path):
    with pytest.raises(CommandError, match=r"nope\.csv: no such file"):
        suggest_tags(train_csv, tmp_path / "nope.csv")
    with pytest.raises(CommandError, match="no such file"):
        suggest_tags(tmp_path / "missing-train.csv", train_csv)


def test_missing_column_is_a_clear_error(train_csv, tmp_path):
    no_tag = write_csv(tmp_path / "no_tag.csv", ["text"], [["hello"]])
    no_text = write_csv(tmp_path / "no_text.csv", ["message"], [["hello"]])
    with pytest.raises(CommandError, match="missing column tag"):
        suggest_tags(no_tag, train_csv)
    with pytest.raises(CommandError, match="missing column text"):
        suggest_tags(train_csv, no_text)


def test_too_little_tagging_is_a_clear_error(tmp_path):
    train = write_csv(tmp_path / "t.csv", ["text", "tag"], [["a b c", "x"], ["d e f", "y"]])
    with pytest.raises(CommandError, match="at least two tags"):
        suggest_tags(train, train)


def test_the_command_exits_non_zero_with_a_readable_message(tmp_path, capsys):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(
            ["manage.py", "suggest_tags", "--train", str(tmp_path / "x.csv"), "--predict", "y"]
        )
    assert exit_info.value.code != 0
    assert "x.csv: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("tags", [2, 3])
def test_fast_probabilities_equal_scikit_learns(tags):
    texts = [t for tag in list(TRAINING)[:tags] for t in TRAINING[tag]]
    labels = [tag for tag in list(TRAINING)[:tags] for _ in TRAINING[tag]]
    suggester = TagSuggester()
    suggester.keep_classifier = True
    suggester.fit(texts, labels)
    probe = [*texts, "something else entirely", ""]
    expected = suggester.classifier.predict_proba(
        suggester.vectorizer.transform([t.lower() for t in probe])
    )
    assert np.allclose(suggester.probabilities(probe), expected, atol=1e-5)


def test_training_is_deterministic_and_the_model_survives_pickling():
    texts = [t for group in TRAINING.values() for t in group]
    labels = [tag for tag, group in TRAINING.items() for _ in group]
    first = TagSuggester().fit(texts, labels)
    second = TagSuggester().fit(texts, labels)
    probe = ["reset my password", "where is my order", "money back"]
    assert np.array_equal(first.probabilities(probe), second.probabilities(probe))
    loaded = pickle.loads(pickle.dumps(first))
    assert loaded.suggest_many(probe) == first.suggest_many(probe)


def test_tags_with_too_few_examples_are_left_out():
    texts = [t for group in TRAINING.values() for t in group] + ["a lonely message"]
    labels = [tag for tag, group in TRAINING.items() for _ in group] + ["rare"]
    suggester = TagSuggester().fit(texts, labels)
    assert suggester.skipped_tags == ["rare"]
    assert "rare" not in suggester.tags
    with pytest.raises(NotEnoughTagging):
        TagSuggester().fit(TRAINING["refund"], ["refund"] * len(TRAINING["refund"]))


# Training on 15,000 messages takes ~15-20 s here: the PostgreSQL pass runs it. Training time
# and latency are speed goals: `python -m benchmarks.suggester` measures and prints them on a
# quiet box; asserting them here failed the suite whenever the two cores were busy.
@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_targets_on_the_shared_intents_corpus():
    if not (CORPUS / "train.csv").exists():
        pytest.skip(f"the shared intents corpus is not at {CORPUS}")
    from benchmarks.suggester import TARGETS, measure

    figures = measure(CORPUS)

    assert figures["precision"] >= TARGETS["precision"], figures
    assert figures["coverage"] >= TARGETS["coverage"], figures
    assert figures["oos_silent"] >= TARGETS["oos_silent"], figures
