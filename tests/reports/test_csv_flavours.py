"""The two CSV flavours (plain CSV, and CSV for Excel in the reader's language),
the XLSX download's header row, and download names that carry the filters."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from flask_babel import force_locale

from tests.conftest import login
from vle.reports import competencies as competency_report
from vle.reports import services, writers
from vle.reports.scope import OPERATOR

HEADERS = ["Name", "Score"]


def read(data: bytes, delimiter: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, both flavours
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


@pytest.mark.parametrize(
    ("language", "delimiter", "decimal"),
    [("en", ",", "."), ("lt", ";", ","), ("pl", ";", ","), ("nb", ";", ",")],
)
def test_csv_for_excel_separates_and_marks_decimals_as_the_language_does(
    language, delimiter, decimal
):
    flavour = writers.excel_flavour(language)
    assert (flavour.delimiter, flavour.decimal) == (delimiter, decimal)
    rows = [["Jonas; Petras", 12.5], ['Ona, Eglė "Ė"', -3], ["=1+2", 0.25]]
    data = b"".join(writers.csv_chunks(HEADERS, rows, flavour))
    assert read(data, delimiter) == [
        HEADERS,
        ["Jonas; Petras", f"12{decimal}5"],
        ['Ona, Eglė "Ė"', "-3"],
        ["'=1+2", f"0{decimal}25"],  # a formula-like text neutralised, as in plain CSV
    ]


def test_plain_csv_is_commas_and_dots_whatever_the_language():
    data = b"".join(writers.csv_chunks(HEADERS, [["Jonas; Petras", 12.5]]))
    assert data == b"\xef\xbb\xbfName,Score\r\nJonas; Petras,12.5\r\n"
    assert read(data, ",")[1] == ["Jonas; Petras", "12.5"]


def test_the_reports_excel_csv_is_the_general_writer_in_the_excel_flavour(app, session, network):
    """Both reports' quick CSV path writes what the one writer makes of their rows."""
    network.users["sam"].name = "Samas; Šimkus"
    session.commit()
    tz = services.zone("Europe/Vilnius")
    with app.app_context(), force_locale("lt"):
        flavour = writers.excel_flavour("lt")
        filters = services.resolve_filters(session, OPERATOR)
        rows = services.iter_completion_rows(session, filters, OPERATOR, "learner")
        expected = b"".join(writers.csv_chunks(
            services.spreadsheet_headers(tz),
            services.spreadsheet_rows(rows, tz, text_times=True),
            flavour,
        ))  # fmt: skip
        exported = b"".join(
            services.export_chunks("csv-excel", lambda: session, filters, OPERATOR, "learner", tz)
        )
        assert exported == expected
        table = read(exported, ";")
        assert table[0][0] == "Besimokantysis"  # the header in Lithuanian
        sam = next(row for row in table if row[1] == "sam@example.org" and row[4] == "ethics")
        assert sam[0] == "Samas; Šimkus" and sam[10] == "87,5"

        filters = competency_report.resolve_filters(session, OPERATOR)
        rows = competency_report.iter_competency_rows(session, filters, OPERATOR, "learner")
        expected = b"".join(writers.csv_chunks(
            competency_report.spreadsheet_headers(tz),
            competency_report.spreadsheet_rows(rows, tz, text_times=True),
            flavour,
        ))  # fmt: skip
        exported = b"".join(competency_report.export_chunks(
            "csv-excel", lambda: session, filters, OPERATOR, "learner", tz
        ))  # fmt: skip
        assert exported == expected
        assert any(row[0] == "Samas; Šimkus" for row in read(exported, ";"))


@pytest.fixture
def lithuanian_admin(client, session, network):
    admin = network.users["netadmin"]
    admin.locale = "lt"
    network.users["sam"].name = "Samas; Šimkus"
    session.commit()
    assert login(client, admin.email).status_code == 302
    return client


def test_the_report_pages_offer_both_flavours(lithuanian_admin):
    for path in ("/reports", "/reports/competencies"):
        html = lithuanian_admin.get(path).get_data(as_text=True)
        for href in ("-excel.csv", ".csv", ".xlsx", ".json"):
            assert href + "?" in html or href + '"' in html, (path, href)


def test_the_download_buttons_are_named_for_what_they_give(client, session, network):
    assert login(client, network.users["netadmin"].email).status_code == 302
    for path, report in (("/reports", "completion"), ("/reports/competencies", "competencies")):
        html = client.get(path).get_data(as_text=True)
        for href, name in (
            (f"/reports/{report}-excel.csv", re.escape("Download for Excel (CSV)")),
            (f"/reports/{report}.csv", "Download CSV"),
            (f"/reports/{report}.xlsx", "Download Excel"),
        ):
            assert re.search(rf'href="{re.escape(href)}[^"]*" download>{name}</a>', html), name
        # A name matched as a part (Playwright's get_by_role) finds one link each.
        links = [text.casefold() for text in re.findall(r" download>([^<]*)</a>", html)]
        for name in ("Download CSV", "Download Excel", "Download for Excel"):
            assert sum(name.casefold() in text for text in links) == 1, name


def test_the_downloads_in_lithuanian(lithuanian_admin):
    excel = lithuanian_admin.get("/reports/completion-excel.csv?course=ethics")
    assert excel.status_code == 200 and excel.mimetype == "text/csv"
    table = read(excel.get_data(), ";")
    assert table[0][0] == "Besimokantysis" and len(table[0]) == 15
    sam = next(row for row in table if row[1] == "sam@example.org")
    assert sam[0] == "Samas; Šimkus" and sam[10] == "87,5"

    plain = lithuanian_admin.get("/reports/completion.csv?course=ethics")
    sam = next(row for row in read(plain.get_data(), ",") if row[1] == "sam@example.org")
    assert sam[0] == "Samas; Šimkus" and sam[10] == "87.5"

    ratings = lithuanian_admin.get("/reports/competencies-excel.csv")
    assert ratings.status_code == 200
    rows = read(ratings.get_data(), ";")
    assert len(rows) > 1 and all(len(row) == 11 for row in rows)


def test_the_xlsx_header_row_filters_and_holds_text_as_it_is(lithuanian_admin):
    data = lithuanian_admin.get("/reports/completion.xlsx").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert '<autoFilter ref="A1:O8"/>' in xml  # the header and its seven rows
    assert "<t>Samas; Šimkus</t>" in xml and "<f>" not in xml


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (
            "/reports/completion.csv?organisation=SCHOOL&course=ethics&since=2025-01-01"
            "&until=2025-06-30&status=completed",
            "completion-school-ethics-2025-01-01_2025-06-30-completed.csv",
        ),
        ("/reports/completion-excel.csv?since=2025-01-01", "completion-2025-01-01_.csv"),
        ("/reports/completion.xlsx?until=2025-06-30&course=ethics",
         "completion-ethics-_2025-06-30.xlsx"),
        ("/reports/competencies.json?organisation=SCHOOL&since=2025-01-01&until=2025-02-01",
         "competencies-school-2025-01-01_2025-02-01.json"),
    ],
)  # fmt: skip
def test_download_names_carry_the_filters(lithuanian_admin, path, name):
    response = lithuanian_admin.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    )


def test_without_a_period_the_name_has_the_days_date(lithuanian_admin):
    from datetime import UTC, datetime

    disposition = lithuanian_admin.get("/reports/completion.csv").headers["Content-Disposition"]
    assert f'filename="completion-{datetime.now(UTC).date().isoformat()}.csv"' in disposition


def test_a_code_with_other_characters_becomes_a_safe_name(session, network):
    network.orgs["SCHOOL"].code = 'ŠK/01 "x"'
    session.commit()
    filters = services.resolve_filters(session, OPERATOR, organisation='ŠK/01 "x"')
    assert services.export_filename("csv", filters).startswith("completion-sk-01-x-")


def test_the_cli_writes_csv_for_excel_in_its_language(app, runner, network, tmp_path):
    target = tmp_path / "report.csv"
    result = runner.invoke(
        args=["report", "completion", "--format", "csv-excel", "--language", "pl",
              "--course", "ethics", "-o", str(target)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read(target.read_bytes(), ";")
    assert next(row for row in rows if row[1] == "sam@example.org")[10] == "87,5"
