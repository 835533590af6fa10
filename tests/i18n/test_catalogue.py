"""The Bahasa Indonesia catalogues are complete (issue 23): `makemessages` run on a copy of the
sources adds no entry that locale/id lacks, and leaves none empty or fuzzy; the committed .mo
files are what `compilemessages` makes of the committed .po files. Needs GNU gettext (msgattrib,
msgfmt), which `.ci/run` installs."""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "locale" / "id" / "LC_MESSAGES"
# What `makemessages` skips (docs/i18n.md): the venv, data, tests and benchmarks.
IGNORED = (".venv", "var", "tests", "benchmarks", ".git", "node_modules", "staticfiles", "build")
DOMAINS = {"django": [], "djangojs": ["-i", "static/vendor"]}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install GNU gettext (apt-get install gettext)")
    return path


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """A copy of the sources with the committed catalogues, after `makemessages -l id`."""
    copy = tmp_path_factory.mktemp("i18n") / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*IGNORED, "__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(copy)}
    for domain, extra in DOMAINS.items():
        ignore = [arg for name in IGNORED for arg in ("-i", name)]
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-l",
                "id",
                "-d",
                domain,
                *ignore,
                *extra,
            ],
            cwd=copy,
            env=env,
            check=True,
            capture_output=True,
        )
    return copy / "locale" / "id" / "LC_MESSAGES"


def _entries(args: list[str], po: Path) -> str:
    answer = subprocess.run(
        [_tool("msgattrib"), "--no-obsolete", *args, str(po)],
        check=True,
        capture_output=True,
        text=True,
    )
    return answer.stdout


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_makemessages_leaves_nothing_untranslated_or_fuzzy(regenerated, domain):
    po = regenerated / f"{domain}.po"
    untranslated = _entries(["--untranslated"], po)
    assert not untranslated.strip(), f"untranslated in {domain}.po:\n{untranslated}"
    fuzzy = _entries(["--only-fuzzy"], po)
    assert not fuzzy.strip(), f"fuzzy in {domain}.po:\n{fuzzy}"


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_the_committed_catalogue_is_compiled(tmp_path, domain):
    compiled = tmp_path / f"{domain}.mo"
    subprocess.run(
        [_tool("msgfmt"), "--check-format", "-o", str(compiled), str(MESSAGES / f"{domain}.po")],
        check=True,
    )
    with compiled.open("rb") as fresh, (MESSAGES / f"{domain}.mo").open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        found = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    assert found == expected, f"locale/id/LC_MESSAGES/{domain}.mo is stale: run `make messages`"


def test_an_entry_left_empty_is_caught(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Send"\nmsgstr "Kirim"\n\nmsgid "Reply"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "Undo"\nmsgstr "Batal"\n'
    )
    assert 'msgid "Reply"' in _entries(["--untranslated"], po)
    assert 'msgid "Undo"' in _entries(["--only-fuzzy"], po)
