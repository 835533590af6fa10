"""Every word a person reads on the agent's pages, the survey and the sign-in pages goes through
the translation machinery (issue 23): a template under templates/ui, templates/inbox,
templates/integrations, templates/reports or templates/registration (or base.html) with text outside
{% translate %} / {% blocktranslate %} fails here, naming the file and the words. Visible text:
HTML text and the attributes people read (title, placeholder, aria-label, alt, label), once
template comments, translation tags, other tags and {{ variables }} are taken out."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SCANNED = ["ui", "reports", "registration", "inbox", "integrations"]
# Names that stay the same in every language.
ALLOWED = {
    "Switchboard",
    "CSV",
    "Enter",
    "WhatsApp",
    "Telegram",
    "Instagram",
    "Messenger",
    "UGC",
    "CSAT",
    "NPS",
}
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "aria-description"}

COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
TAG = re.compile(r"{%.*?%}|{{.*?}}", re.S)
WORD = re.compile(r"[^\W\d_]{2,}")


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.words += WORD.findall(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.words += WORD.findall(data)


def untranslated_words(source: str) -> list[str]:
    text = TAG.sub(" ", BLOCK.sub(" ", COMMENT.sub(" ", source)))
    parser = _Visible()
    parser.feed(text)
    parser.close()
    return [word for word in parser.words if word not in ALLOWED]


def scanned_templates() -> list[Path]:
    found = sorted(p for folder in SCANNED for p in (TEMPLATES / folder).rglob("*.html"))
    # The pages at the top: base.html and the error pages an agent meets (403.html).
    return [*sorted(TEMPLATES.glob("*.html")), *found]


@pytest.mark.parametrize("path", scanned_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_visible_text_outside_translation_tags(path):
    words = untranslated_words(path.read_text())
    assert not words, (
        f"{path.relative_to(TEMPLATES)}: wrap {' '.join(words)!r} in {{% translate %}}"
    )


def test_the_scanner_finds_bare_words_and_lets_wrapped_ones_through():
    assert untranslated_words("<p>Hello {{ name }}</p>") == ["Hello"]
    assert untranslated_words('<input placeholder="Search">') == ["Search"]
    assert untranslated_words("<p>{% translate 'Hello' %} · Switchboard</p>") == []
    wrapped = "{% blocktranslate with n=x %}Hi {{ n }}{% endblocktranslate %}{# Note #}"
    assert untranslated_words(wrapped) == []
    assert untranslated_words("<script>let x = 'word';</script>") == []
