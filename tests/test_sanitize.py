"""The one HTML policy, checked on hostile input and with generated text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from vle.sanitize import clean_html, markdown_to_html, wrap_tables

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(1)"></svg>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<form action="https://evil.example"><input name=x></form>',
]


def test_hostile_html_is_neutralised():
    for html in HOSTILE:
        cleaned = clean_html(html).lower()
        for bad in (
            "<script",
            "onerror",
            "onload",
            "javascript:",
            "<iframe",
            "<svg",
            "style=",
            "<form",
            "<input",
        ):
            assert bad not in cleaned, (html, cleaned)


def test_markdown_keeps_structure_and_moves_h1_to_h2():
    html = markdown_to_html(
        "# Title\n\n**bold** [link](https://example.org)\n\n| a | b |\n|:-:|--|\n| 1 | 2 |\n"
    )
    assert "<h2>Title</h2>" in html and "<h1>" not in html
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.org">link</a>' in html
    assert "<table>" in html and "style" not in html


@given(st.text())
def test_clean_html_never_lets_a_script_tag_through(text):
    cleaned = clean_html(text + "<script>x</script>").lower()
    assert "<script" not in cleaned


@given(st.text())
def test_markdown_output_is_stable_under_sanitising(text):
    once = markdown_to_html(text)
    assert clean_html(once) == once


def test_each_lesson_table_scrolls_in_its_own_labelled_focusable_box(app):
    """A phone shows a wide table in a box that scrolls by itself (WCAG 1.4.10); the
    box is a region a keyboard user can focus, named by caption, first header, or number."""
    html = markdown_to_html(
        "| Name & role | E-mail |\n|---|---|\n| Ona | ona@example.org |\n\n"
        "<table><caption>Fees <em>2026</em></caption><tr><td>1</td></tr></table>\n\n"
        "<table><tr><td>no header</td></tr></table>"
    )
    with app.test_request_context(headers={"Accept-Language": "en-GB"}):
        wrapped = str(wrap_tables(html))
    boxes = re.findall(
        r'<div class="table-wrap" role="region" tabindex="0" aria-label="([^"]*)">', wrapped
    )
    assert boxes == ["Name &amp; role", "Fees 2026", "Table 3"]
    assert wrapped.count("<table>") == 3 and wrapped.count("</table></div>") == 3


def test_only_the_outer_table_gets_a_box_and_names_are_escaped(app):
    """A table inside a table's cell scrolls with its table; a name with quotes
    cannot end the attribute; the fallback name is in the reader's language."""
    html = clean_html(
        '<table><tr><th>Say "hi" &lt;now&gt;</th></tr>'
        "<tr><td><table><tr><th>Inner</th></tr></table></td></tr></table>"
        "<table><tr><th> </th><td>x</td></tr></table>"
    )
    with app.test_request_context(headers={"Accept-Language": "lt"}):
        wrapped = str(wrap_tables(html))
    boxes = re.findall(r'<div class="table-wrap"[^>]*aria-label="([^"]*)">', wrapped)
    assert boxes == ["Say &#34;hi&#34; &lt;now&gt;", "2 lentelė"]
    assert wrapped.count("table-wrap") == 2
    # Nothing but the boxes is added: take them away and the HTML is as it was.
    assert re.sub(r'<div class="table-wrap"[^>]*>|(?<=</table>)</div>', "", wrapped) == html


def test_a_page_without_tables_is_unchanged(app):
    html = markdown_to_html("Just *text*.")
    with app.test_request_context():
        assert wrap_tables(html) == html
