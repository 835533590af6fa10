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


def sanitize_html(html: str) -> str:
    """No scripts, event handlers, styles, forms, frames or non-web URLs survive."""
    if not html:
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
