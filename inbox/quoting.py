"""Fold the quoted history and signature of an email reply away from its new text.

Display only: the full text is stored; `split_quoted` tells the UI what to fold.
"""

import re

# "On Tue, 3 Mar 2026 at 10:00, Ann <ann@example.com> wrote:" (Gmail, Apple Mail, Thunderbird),
# possibly wrapped over two lines by the sending client; "Pada ... menulis:" in Indonesian.
_ON_WROTE = re.compile(
    r"^(On|Am|Le|El|Il|Op|Pada)\s.{0,300}?"
    r"(wrote|schrieb|a écrit|escribió|scrisse|schreef|menulis)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# Outlook: "-----Original Message-----", or a "From: ... Sent: ..." header block.
_ORIGINAL = re.compile(
    r"^-{2,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\*?(From|De|Von)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\*?(Sent|Date|Envoyé|Gesendet|To|Subject)\s*:", re.IGNORECASE)
_RULE = re.compile(r"^_{10,}$")
_SIGNATURE = "-- "
_MOBILE_SIGNATURE = re.compile(r"^(Sent from my \w+|Get Outlook for \w+)", re.IGNORECASE)


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _ON_WROTE.match(stripped):
            return index
        # a two-line "On ... \n ... wrote:" header
        if (
            index + 1 < len(lines)
            and stripped.lower().startswith(("on ", "am ", "le ", "el ", "il ", "op ", "pada "))
            and _ON_WROTE.match(f"{stripped} {lines[index + 1].strip()}")
        ):
            return index
        if _ORIGINAL.match(stripped):
            return index
        if _OUTLOOK_FROM.match(stripped) and any(
            _OUTLOOK_NEXT.match(following.strip()) for following in lines[index + 1 : index + 4]
        ):
            # Outlook draws a line of underscores above its header block: fold it too.
            if index and _RULE.match(lines[index - 1].strip()):
                return index - 1
            return index
        if line.startswith(">") and all(
            not rest.strip() or rest.startswith(">") for rest in lines[index:]
        ):
            return index
        if line.rstrip("\n") == _SIGNATURE.rstrip() + " " or line == _SIGNATURE:
            return index
        if _MOBILE_SIGNATURE.match(stripped) and index > 0:
            return index
    return None


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, folded rest): the rest starts at the first quote header, the first line of a
    trailing `>` block, or the `-- ` signature separator. Text with nothing to fold comes back
    whole, with an empty rest; a reply that is only a quote is not folded to nothing."""
    if not text:
        return "", ""
    lines = text.split("\n")
    start = _quote_start(lines)
    if start is None:
        return text, ""
    body = "\n".join(lines[:start]).rstrip()
    if not body.strip():
        return text, ""
    return body, "\n".join(lines[start:])


def folded(message) -> dict:
    """A message as the thread shows it, {"body", "quoted"}: a customer's quoted history and
    signature folded away; our own messages never folded, and shown as agents see them
    (Message.text_for_agents). The message API's `folded` and the conversation page share it."""
    if message.direction != "in":
        return {"body": message.text_for_agents, "quoted": ""}
    body, quoted = split_quoted(message.text)
    return {"body": body, "quoted": quoted}
