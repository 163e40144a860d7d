"""The one HTML policy, checked on hostile input and with generated text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from vle.sanitize import clean_html, markdown_to_html

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
