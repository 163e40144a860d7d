"""The one spreadsheet module: CSV, XLSX and JSON written row by row.

CSV comes in two flavours (`CsvFlavour`): plain CSV (`PLAIN`: comma-separated,
"." as the decimal mark — what programs read, and what the API and the command
line write) and CSV for Excel in the reader's language (`excel_flavour`: where
the language writes "," as its decimal mark — lt, pl, nb — ";" separates the
fields and "," marks decimals, as Excel opens a CSV there; English: "," and ".").
Both are UTF-8 with a byte order mark (so Excel shows Lithuanian and Polish
letters), CRLF line ends, and a field quoted (its quotes doubled) when it holds
the separator, a double quote or a line break.

Every writer takes an iterable of rows and yields bytes, so an export of a
million rows flows from the database cursor to the client (or a file) without
ever being held in memory. Cells are typed: `str`, `int`/`float`, `datetime`
(in the reader's time zone; written without its offset), `date`, or `None` (an empty cell).

Formula neutralisation (CSV): a text cell that a spreadsheet would run as a formula
(it starts with `=`, `+`, `-`, `@`, a tab or a carriage return — also after
leading spaces, which some spreadsheets skip) gets a leading apostrophe, the
spreadsheet's own "this is text" mark. Real numbers — numeric cells, and text
that is just a number such as "-3", "+12.5" or "-1,5" — are left as they are:
they cannot run anything, and a minus sign stripped from a negative number
would change the data. An XLSX cell needs no mark: text is written as text
(XlsxWriter's `write_string`), never as a formula.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter
from babel import Locale

from vle.formats import decimal_mark

FORMULA_STARTS = frozenset("=+-@\t\r")
# First characters that need a second look: text starting with anything else is
# never neutralised, which decides most cells with one test (`text[:1] in ...`).
MAYBE_FORMULA = FORMULA_STARTS | {" "}
# A plain number, with a decimal point or comma and an optional exponent.
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
BOM = "\ufeff"
CHUNK_ROWS = 1000
FILE_CHUNK = 64 * 1024
# An XLSX sheet holds 1,048,576 rows; the header takes one.
XLSX_MAX_DATA_ROWS = 1_048_575

Cell = str | int | float | datetime | date | None


def neutralise(value: str) -> str:
    """`value`, with a leading apostrophe if a spreadsheet would run it as a formula."""
    if not value or value[0] not in MAYBE_FORMULA:
        return value  # the common case, decided by the first character
    first = value[0]
    if first == " ":
        stripped = value.lstrip(" ")
        first = stripped[0] if stripped else ""
    if first in FORMULA_STARTS and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_field(text: str) -> str:
    """Text as one plain CSV field: neutralised, then quoted when it holds a comma, a
    double quote or a line break (its quotes doubled) — RFC 4180, and what
    Python's csv module writes (a test holds the two equal)."""
    if text[:1] in MAYBE_FORMULA:
        text = neutralise(text)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _semicolon_field(text: str) -> str:
    """`csv_field` for a CSV whose fields are separated by ";"."""
    if text[:1] in MAYBE_FORMULA:
        text = neutralise(text)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if ";" in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


@dataclass(frozen=True)
class CsvFlavour:
    """How a CSV separates its fields and writes a decimal number."""

    delimiter: str = ","
    decimal: str = "."

    @property
    def field(self) -> Callable[[str], str]:
        """Text as one field of this flavour (neutralised, quoted when needed)."""
        return csv_field if self.delimiter == "," else _semicolon_field

    def number(self, text: str) -> str:
        """A number written with "." (Python's `repr`) in this flavour's decimal mark."""
        return text if self.decimal == "." else text.replace(".", self.decimal)


PLAIN = CsvFlavour()


def excel_flavour(language: str | Locale | None) -> CsvFlavour:
    """CSV as Excel opens it for readers of `language`: ";" and "," where the
    language's decimal mark is "," (lt, pl, nb), else "," and "."."""
    mark = decimal_mark(language)
    return CsvFlavour(";" if mark == "," else ",", mark)


def flavour_for(fmt: str, language: str | Locale | None) -> CsvFlavour:
    """The CSV flavour a download format asks for: "csv-excel" is CSV for Excel in
    `language`; "csv" (and anything else) plain CSV."""
    return excel_flavour(language) if fmt == "csv-excel" else PLAIN


def spreadsheet_chunks(
    fmt: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    language: str | Locale | None = None,
    sheet_name: str = "Report",
) -> Iterator[bytes]:
    """A download in `fmt`: "xlsx", "csv-excel" (CSV for Excel in `language`) or
    "csv" (plain CSV) — one call for every page that offers the three."""
    if fmt == "xlsx":
        return xlsx_chunks(headers, rows, sheet_name=sheet_name)
    return csv_chunks(headers, rows, flavour_for(fmt, language))


def _field(value: Cell, flavour: CsvFlavour = PLAIN) -> str:
    """A cell as a CSV field."""
    if type(value) is str:  # most cells: checked first, and without isinstance
        return flavour.field(value)
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # The shortest text that reads back as the same number ("-inf" is no number).
        if not math.isfinite(value):
            return neutralise(repr(value))
        return flavour.number(repr(value))
    if isinstance(value, datetime):
        # ISO 8601 with a space and without the offset (the header names the zone):
        # every spreadsheet reads it as a date and time.
        return value.isoformat(" ", "seconds")[:19]
    if isinstance(value, date):
        return value.isoformat()
    return flavour.field(str(value))


def csv_chunks(
    headers: Sequence[str], rows: Iterable[Sequence[Cell]], flavour: CsvFlavour = PLAIN
) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte order mark (so Excel shows Lithuanian and Polish
    letters), in `flavour` (plain: comma-separated), CRLF line ends (RFC 4180),
    every text cell neutralised."""
    fields = ([_field(cell, flavour) for cell in row] for row in rows)
    return csv_batches(
        headers, iter(lambda: list(itertools.islice(fields, CHUNK_ROWS)), []), flavour
    )


def csv_batches(
    headers: Sequence[str],
    batches: Iterable[Sequence[Sequence[str]]],
    flavour: CsvFlavour = PLAIN,
) -> Iterator[bytes]:
    """CSV as `csv_chunks` writes it, one chunk per batch of rows, from rows whose
    cells are fields of `flavour` already: text made with `flavour.field`, numbers
    as text (decimals by `flavour.number`), "" for an empty cell — for a caller that
    can make a million rows' fields cheaper than cell by cell, knowing what each of
    its columns holds."""
    one_column = len(headers) == 1
    join = flavour.delimiter.join
    header = join(flavour.field(h) for h in headers)
    if one_column and not header:
        header = '""'
    yield (BOM + header + "\r\n").encode("utf-8")
    for batch in batches:
        if not batch:
            continue
        if one_column:  # a lone empty field is written "" (an empty line is no row)
            batch = [row if row[0] else ('""',) for row in batch]
        yield ("\r\n".join(map(join, batch)) + "\r\n").encode("utf-8")


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """`{"rows": [...], "total": N}`, written as the rows come; `total` is counted
    on the way, so it is always the number of rows written."""
    total = 0
    parts = ['{"rows": [']
    for row in rows:
        parts.append(("," if total else "") + json.dumps(row, ensure_ascii=False))
        total += 1
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append(f'], "total": {total}}}')
    yield "".join(parts).encode("utf-8")


def xlsx_chunks(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    sheet_name: str = "Report",
    widths: Sequence[int] | None = None,
) -> Iterator[bytes]:
    """An XLSX workbook: typed cells (numbers as numbers, dates as dates), text
    written as text — never read as a formula or a link, so it needs no leading
    apostrophe — and the header row frozen, with an autofilter over the columns.

    XlsxWriter's `constant_memory` mode writes each row to a temporary file as
    it comes, so memory stays flat however many rows there are. A workbook is a
    zip assembled when it is closed, so the bytes follow once every row has been
    written; rows beyond one sheet's limit continue on a new sheet."""
    with tempfile.TemporaryFile() as output:
        workbook = xlsxwriter.Workbook(
            output,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        names = _sheet_names(sheet_name)

        last_col = max(len(headers) - 1, 0)

        def new_sheet() -> Any:
            sheet = workbook.add_worksheet(next(names))
            for col, width in enumerate(widths or []):
                sheet.set_column(col, col, width)
            for col, header in enumerate(headers):
                sheet.write_string(0, col, header, bold)
            sheet.freeze_panes(1, 0)
            return sheet

        sheet = new_sheet()
        row_number = 0
        for row in rows:
            if row_number == XLSX_MAX_DATA_ROWS:
                sheet.autofilter(0, 0, row_number, last_col)
                sheet, row_number = new_sheet(), 0
            row_number += 1
            for col, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(row_number, col, value)
                elif isinstance(value, bool):
                    sheet.write_boolean(row_number, col, value)
                elif isinstance(value, int | float):
                    sheet.write_number(row_number, col, value)
                elif isinstance(value, datetime):
                    sheet.write_datetime(row_number, col, value.replace(tzinfo=None), when)
                elif isinstance(value, date):
                    sheet.write_datetime(row_number, col, value, day)
                else:
                    sheet.write_string(row_number, col, str(value))
        # Written into the sheet when the workbook closes: the range ends at the last row.
        sheet.autofilter(0, 0, row_number, last_col)
        workbook.close()
        output.seek(0)
        while chunk := output.read(FILE_CHUNK):
            yield chunk


def _sheet_names(base: str) -> Iterator[str]:
    # Sheet names: at most 31 characters, none of []:*?/\ .
    base = re.sub(r"[\[\]:*?/\\]", " ", base)[:28] or "Report"
    yield base
    number = 2
    while True:
        yield f"{base} {number}"
        number += 1
