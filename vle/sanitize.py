"""The one HTML policy: everything user-authored passes here once, when written."""

from __future__ import annotations

import bleach
import markdown as markdown_lib

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details",
        "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "small",
        "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": ["lang", "dir", "title"],
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# No `style` attributes: the Content-Security-Policy would block them anyway.


def clean_html(html: str) -> str:
    """Sanitise HTML: unknown tags are escaped away, scripts, event handlers and
    `javascript:` URLs removed. Headings start at h2 (the page owns h1)."""
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS | {"h1"},
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    # The page's title is its only h1, so authored top-level headings become h2.
    return cleaned.replace("<h1>", "<h2>").replace("</h1>", "</h2>")


def markdown_to_html(text: str) -> str:
    """Render Markdown and sanitise the result."""
    html = markdown_lib.markdown(
        text, extensions=["tables", "fenced_code", "sane_lists", "attr_list"], output_format="html"
    )
    return clean_html(html)
