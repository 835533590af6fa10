"""Quoted history and signatures of real reply formats are folded away, never lost."""

import pytest

from inbox.quoting import split_quoted

GMAIL = """Yes, that fixed it. Thanks!

On Tue, Mar 3, 2026 at 10:15 AM Switchboard Support <help@support.example.com>
wrote:

> Hi Ann,
>
> Please restart the printer.
>
"""

OUTLOOK = """Still broken, see attached.

________________________________
From: Switchboard Support <help@support.example.com>
Sent: Tuesday, March 3, 2026 10:15 AM
To: Ann Customer <ann@example.com>
Subject: RE: Printer on fire

Please restart the printer.
"""

OUTLOOK_ORIGINAL = """Forwarding to the right person.

-----Original Message-----
From: Bob <bob@example.com>
Sent: Monday, March 2, 2026 9:00 AM
Subject: invoice

Where is my invoice?
"""

BOTTOM_QUOTE = """Ann wrote earlier about this.
It still fails.

> The printer is on fire.
> Please help.
"""

SIGNATURE = "Thanks for the quick answer.\n\n-- \nAnn Customer\nACME Corp, +1 555 0100\n"

APPLE = """Works now.

Sent from my iPhone

> On 3 Mar 2026, at 10:15, Switchboard Support <help@support.example.com> wrote:
>
> Please restart the printer.
"""


@pytest.mark.parametrize(
    ("text", "body", "quoted_starts"),
    [
        (GMAIL, "Yes, that fixed it. Thanks!", "On Tue, Mar 3, 2026 at 10:15 AM"),
        (OUTLOOK, "Still broken, see attached.", "________________________________\nFrom:"),
        (OUTLOOK_ORIGINAL, "Forwarding to the right person.", "-----Original Message-----"),
        (
            BOTTOM_QUOTE,
            "Ann wrote earlier about this.\nIt still fails.",
            "> The printer is on fire.",
        ),
        (SIGNATURE, "Thanks for the quick answer.", "-- \nAnn Customer"),
        (APPLE, "Works now.", "Sent from my iPhone"),
    ],
    ids=[
        "gmail",
        "outlook-header-block",
        "outlook-original-message",
        "bottom-quote",
        "signature",
        "apple-mobile",
    ],
)
def test_reply_formats_fold_their_history(text, body, quoted_starts):
    new, quoted = split_quoted(text)

    assert new == body
    assert quoted.startswith(quoted_starts)
    assert text.startswith(new) and text.endswith(quoted)  # nothing is lost


def test_text_without_history_is_left_whole():
    text = "My order 1234 has not arrived.\nCan you check?\n\nAnn"
    assert split_quoted(text) == (text, "")


def test_a_mail_that_is_only_a_quote_is_not_folded_to_nothing():
    text = "> forwarded without comment\n> second line"
    assert split_quoted(text) == (text, "")


def test_inline_answers_between_quotes_stay_visible():
    text = "> Which model?\nThe X200.\n> Since when?\nSince Monday."
    assert split_quoted(text) == (text, "")
