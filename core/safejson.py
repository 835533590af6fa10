"""One JSON loader for everything that reads JSON from outside (webhook bodies, the chat
widget, the REST API): the stdlib's parser, with the two ways it fails other than a syntax
error turned into the same ValueError: nesting past its recursion limit (RecursionError) and an
integer past Python's 4,300-digit conversion limit (a ValueError that is not a
JSONDecodeError). Callers answer 400 for it instead of a 500."""

import json
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 200  # far beyond any provider's payload; far below the interpreter's limit


class UnsafeJson(ValueError):
    """The body is not JSON we will read: malformed, too deeply nested, or a number too long."""


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def _too_deep(data: str | bytes) -> bool:
    """Whether brackets outside strings nest deeper than MAX_DEPTH. Bodies with few brackets
    (nearly all) are passed at once; the others are looked at bracket by bracket."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return False
    depth = 0
    for byte in _NOT_BRACKET.sub(b"", _STRING.sub(b"", data)):
        depth += 1 if byte in (0x5B, 0x7B) else -1
        if depth > MAX_DEPTH:
            return True
    return False


def loads(data: str | bytes):
    """json.loads, raising UnsafeJson (a ValueError) for anything it cannot or should not read."""
    if _too_deep(data):
        raise UnsafeJson(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise UnsafeJson("JSON nested too deeply") from exc
    except UnicodeDecodeError as exc:
        raise UnsafeJson(f"not UTF-8: {exc}") from exc
    except ValueError as exc:  # JSONDecodeError, or an integer over the digit limit
        raise UnsafeJson(str(exc)) from exc


class SafeJSONParser(JSONParser):
    """DRF's JSON parser on loads(): hostile JSON is a 400 ParseError, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return loads(stream.read().decode(encoding) if stream else b"")
        except (UnsafeJson, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
