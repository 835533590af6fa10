"""Mail text in whatever charset it was sent in, as str: charset labels as mail clients write
them (aliases Python does not know), raw 8-bit header bytes (RFC 6532 UTF-8, or the message's
legacy charset) and RFC 2047 encoded-words, decoded by hand because the stdlib's header parser
turns an unknown label or 8-bit bytes into U+FFFD.

Order for bytes without a trustworthy label: UTF-8 first (it almost never decodes by accident),
then the charset the message declares, then what charset-normalizer finds, then Windows-1252."""

import base64
import binascii
import codecs
import re
from urllib.parse import unquote_to_bytes

from charset_normalizer import from_bytes

# Labels seen in real mail that Python's codecs do not know, or know as a narrower charset
# than the one the sender actually used (the WHATWG Encoding Standard makes the same choices).
ALIASES = {
    "iso-8859-8-i": "iso8859-8",  # logical-order Hebrew: the same bytes
    "iso-8859-8-e": "iso8859-8",
    "iso-8859-6-i": "iso8859-6",
    "iso-8859-6-e": "iso8859-6",
    "ks_c_5601-1987": "cp949",  # Outlook's label for Korean (Unified Hangul Code)
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",  # a superset: clients send UHC under this label
    "x-windows-949": "cp949",
    "gb2312": "gb18030",  # GBK characters under the GB2312 label are common
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",  # Windows' Shift_JIS with NEC and IBM extensions
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "windows-31j": "cp932",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
}
# ISO-2022-JP as sent carries later extensions (JIS X 0212/0213, half-width katakana, the NEC
# row of circled numbers): the plain codec refuses them, these read them.
ISO_2022_JP = ("iso2022_jp", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext", "iso2022_jp_2")


def charset_name(label) -> str | None:
    """A Python codec name for a charset label from a mail (None when unknown)."""
    raw = str(label or "").strip().strip("\"'").lower()
    while raw.startswith("charset="):  # seen in the wild: charset="charset=us-ascii"
        raw = raw[len("charset=") :]
    raw = ALIASES.get(raw, raw)
    if not raw:
        return None
    try:
        return codecs.lookup(raw).name
    except LookupError:
        return None


def decode_with(data: bytes, charset: str) -> str | None:
    """`data` in `charset` (a codec name), or None when it does not decode strictly."""
    for codec in ISO_2022_JP if charset.startswith("iso2022_jp") else (charset,):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def decode_bytes(data: bytes, *charsets: str | None) -> str:
    """`data` as str: each of `charsets` that decodes it, then a detected charset, then
    Windows-1252 with replacements; never an exception."""
    for charset in charsets:
        if charset:
            text = decode_with(data, charset)
            if text is not None:
                return text
    best = from_bytes(data[:200_000]).best() if len(data) >= 8 else None
    # Mail is never UTF-16 or UTF-32 unlabelled; a NUL or two make the detector think so.
    if best is not None and not best.encoding.startswith(("utf_16", "utf_32")):
        return data.decode(best.encoding, errors="replace")
    return data.decode("cp1252", errors="replace")


def message_charset(msg) -> str | None:
    """The charset a mail declares (its own, or its first text part's): raw 8-bit headers that
    are not UTF-8 are read in it."""
    for n, part in enumerate(msg.walk()):
        if n > 50:
            break
        try:
            charset = charset_name(part.get_param("charset"))
        except Exception:  # a Content-Type the strict parser cannot read
            charset = None
        if charset and charset != "ascii":
            return charset
    return None


_ESCAPED = re.compile("[\udc80-\udcff]")


def eight_bit(value: str, charset: str | None) -> str:
    """A header value as the stdlib's bytes parser keeps it (8-bit bytes as surrogate escapes)
    with those bytes decoded: UTF-8 (RFC 6532), else the message's `charset`, else detected."""
    if not _ESCAPED.search(value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8", charset)


_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    data = text.replace("_", " ").encode("ascii", "replace")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def header_text(value: str, charset: str | None = None) -> str:
    """A header value as readable text: unfolded, 8-bit bytes decoded (eight_bit), encoded-words
    decoded with their charset (aliases and ISO-2022-JP extensions included). Whitespace
    between adjacent encoded-words is dropped (RFC 2047, 6.2), and adjacent words in one charset
    are decoded together (a character split across two words survives)."""
    text = _FOLD.sub("", eight_bit(value or "", charset))
    if "\x1b" in text:  # raw ISO-2022-JP, as some Japanese mailers send a Subject
        text = decode_with(text.encode("utf-8", "replace"), "iso2022_jp") or text
    pieces: list[str] = []
    run: list[tuple[str, bytes]] = []  # adjacent encoded-words not decoded yet

    def flush() -> None:
        while run:
            label, data = run.pop(0)
            while run and run[0][0] == label:
                data += run.pop(0)[1]
            # The word's own label first: ISO-2022-JP bytes are 7-bit and would pass as UTF-8.
            pieces.append(decode_bytes(data, charset_name(label), "utf-8", charset))

    end = 0
    for word in _WORD.finditer(text):
        between = text[end : word.start()]
        if between.strip() or not run:
            flush()
            pieces.append(between)
        run.append((word.group(1).lower(), _word_bytes(word.group(2), word.group(3))))
        end = word.end()
    flush()
    pieces.append(text[end:])
    return " ".join("".join(pieces).split())


def continued_filename(part) -> str | None:
    """A part's file name sent in RFC 2231 continuations (filename*0*=euc-kr''%C7%D1;
    filename*1*=...), its bytes joined before they are decoded: the stdlib decodes each section
    alone, so a character cut between two sections becomes U+FFFD. None when not continued."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        for key, value in part.raw_items():
            if key.lower() == header and re.search(rf"(?i)\b{param}\*0\*?\s*=", str(value)):
                return _continued(str(value), param)
    return None


def _continued(value: str, name: str) -> str:
    sections: dict[int, tuple[bool, str]] = {}
    pattern = rf'(?i)(?:^|;)\s*{name}\*(\d+)(\*?)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)'
    for found in re.finditer(pattern, value):
        sections[int(found.group(1))] = (bool(found.group(2)), found.group(3).strip().strip('"'))
    charset, data = None, b""
    for n in sorted(sections):
        extended, text = sections[n]
        if n == 0 and extended and text.count("'") >= 2:
            charset, _language, text = text.split("'", 2)
        data += unquote_to_bytes(text) if extended else text.encode("utf-8", "surrogateescape")
    return decode_bytes(data, charset_name(charset), "utf-8")
