"""The one HTML policy: everything user-authored passes here once, when written."""

from __future__ import annotations

import re
from html import unescape

import bleach
import markdown as markdown_lib
from flask_babel import gettext as _
from markupsafe import Markup, escape

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


_TABLE_TAG = re.compile(r"<table\b[^>]*>|</table\s*>", re.IGNORECASE)
_TABLE_NAME = re.compile(r"<caption\b[^>]*>(.*?)</caption>|<th\b[^>]*>(.*?)</th>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def wrap_tables(html: str) -> Markup:
    """Put each top-level table of sanitised HTML in its own scrolling box, so a
    wide table scrolls inside itself on a phone instead of the page scrolling
    sideways (WCAG 2.1 1.4.10). The box is a labelled, keyboard-focusable region
    (a keyboard user can scroll it): named by the table's caption, else its first
    header, else "Table N" in the reader's language.

    Done when a lesson is shown, not when it is stored: the fallback name is in
    the reader's language, and lessons stored before this rule get it too. The
    input was sanitised when written; only the wrapper added here is new markup."""
    parts: list[str] = []
    depth = 0
    start = 0
    number = 0
    for tag in _TABLE_TAG.finditer(html):
        closing = tag.group().startswith("</")
        if not closing:
            depth += 1
            if depth == 1:
                parts.append(html[start : tag.start()])
                start = tag.start()
        elif depth:
            depth -= 1
            if depth == 0:
                number += 1
                table = html[start : tag.end()]
                parts.append(_table_box(table, number))
                start = tag.end()
    parts.append(html[start:])
    return Markup("".join(parts))  # noqa: S704 -- sanitised when written; the box is ours  # nosec B704


def _table_box(table: str, number: int) -> str:
    name = ""
    for found in _TABLE_NAME.finditer(table):
        name = " ".join(unescape(_TAG.sub(" ", found.group(1) or found.group(2))).split())
        if name:
            break
    name = name or _("Table %(number)d", number=number)
    return (
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{escape(name)}">'
        f"{table}</div>"
    )
