"""HTML from customers is sanitised once, on the way in, with nh3 (ammonia).

Remote images are not loaded without the agent's consent: their `src` becomes
`data-remote-src`, which the UI loads on click. `cid:` images stay `cid:` here and are resolved
to the stored inline attachment when the message is shown (`resolve_cid_images`).
"""

import html as html_lib
import re

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "*": {"dir", "lang"},
}


# Hostile HTML: html5ever (inside nh3) slows down quadratically with the depth of open elements
# (64,000 nested <div>, 320 KB, take ~50 s), and the stdlib HTMLParser cubically on unclosed
# attribute soup. Depth is measured first with a linear scan and HTML nested deeper than this is
# not rendered (the message keeps its text); text extraction never uses HTMLParser.
MAX_HTML_DEPTH = 400
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,15})\b[^<>]*?(/?)>")
# Void elements, and those a parser closes by itself when a sibling opens, never deepen a page.
_FLAT = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "td", "th", "tr", "dt", "dd", "option", "tbody", "thead",
}  # fmt: skip


def html_depth(html: str, *, limit: int = MAX_HTML_DEPTH) -> int:
    """An upper bound of the element nesting of `html`, counted up to just past `limit`."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        closing, name, selfclosing = match.groups()
        if selfclosing or name.lower() in _FLAT:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def html_too_deep(html: str) -> bool:
    return html_depth(html) > MAX_HTML_DEPTH


_BLOCK_TAG = re.compile(r"</?(?:p|div|br|tr|li|h[1-6]|table|hr)\b[^<>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^<>]*>")


def html_to_text(html: str) -> str:
    """A plain rendering of HTML for search, snippets and HTML-only mail: block elements become
    line breaks; scripts, styles and the head are dropped. Linear in the size of the input."""
    if not html:
        return ""
    marked = _BLOCK_TAG.sub(lambda m: "\n" + m.group(0), html)
    if html_too_deep(html):
        stripped = _ANY_TAG.sub(" ", marked)
    else:
        stripped = nh3.clean(
            marked,
            tags=set(),
            attributes={},
            clean_content_tags={"script", "style", "head", "title"},
            strip_comments=True,
        )
    lines = [" ".join(line.split()) for line in html_lib.unescape(stripped).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sanitize_html(html: str) -> str:
    """No scripts, event handlers, styles, forms, frames or non-web URLs survive. HTML nested
    too deeply to render safely in time gives "" (the message's text stands)."""
    if not html or html_too_deep(html):
        return ""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return _IMG_TAG.sub(_defer_remote_src, cleaned)


# nh3 output double-quotes every attribute value and escapes `"` inside it, so these patterns
# tokenise its <img> tags exactly and cannot be steered by the input.
_IMG_TAG = re.compile(r'<img((?:\s+[^\s="<>/]+(?:="[^"]*")?)*)\s*/?>', re.IGNORECASE)
_SRC = re.compile(r'(\s)src="([^"]*)"')


def _defer_remote_src(match: re.Match) -> str:
    def replace(src: re.Match) -> str:
        url = html_lib.unescape(src.group(2)).strip()
        if url.lower().startswith(("http:", "https:", "//")):
            return f'{src.group(1)}data-remote-src="{src.group(2)}"'
        return src.group(0)

    return "<img" + _SRC.sub(replace, match.group(1)) + ">"


def resolve_cid_images(html: str, urls: dict[str, str]) -> str:
    """Point `cid:` images of sanitised HTML at the stored inline attachments; unknown cids
    are left as they are (they load nothing)."""
    if "cid:" not in html:
        return html

    def replace_src(src: re.Match) -> str:
        value = html_lib.unescape(src.group(2)).strip()
        if not value.lower().startswith("cid:"):
            return src.group(0)
        url = urls.get(value[4:].strip("<>"))
        if url is None:
            return src.group(0)
        return f'{src.group(1)}src="{html_lib.escape(url, quote=True)}"'

    def replace(match: re.Match) -> str:
        return "<img" + _SRC.sub(replace_src, match.group(1)) + ">"

    return _IMG_TAG.sub(replace, html)
