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
    assert excel.status_code == 200
    assert excel.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
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


def test_the_xlsx_header_row_filters_and_holds_text_as_it_is(session, network, lithuanian_admin):
    network.users["lina"].name = '=HYPERLINK("x")'
    session.commit()
    data = lithuanian_admin.get("/reports/completion.xlsx").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert '<autoFilter ref="A1:O8"/>' in xml  # the header and its seven rows
    assert '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' in xml
    assert "<t>Samas; Šimkus</t>" in xml and "<f>" not in xml
    # A formula-like name is a text cell as it is: no formula, no apostrophe.
    assert re.search(r'<c r="A\d+" t="inlineStr"><is><t>=HYPERLINK\("x"\)</t></is></c>', xml)
    assert "'=HYPERLINK" not in xml


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


def _snapshot_and_template(app, session, network):
    """A frozen indicator snapshot and a plan template over the ethics competencies."""
    from vle.competencies import plans
    from vle.db import utcnow
    from vle.monitoring import indicators

    admin = network.users["netadmin"]
    with app.app_context(), force_locale("lt"):
        snapshot = indicators.freeze(session, admin, utcnow().date(), utcnow().date(), None)
        template = plans.save_template(
            session, admin, None, name="Etika", description="", due=None,
            competency_ids=[network.competencies["ETH-1"].id, network.competencies["ETH-2"].id],
        )  # fmt: skip
        session.commit()
    return snapshot, template


def test_every_csv_a_person_downloads_comes_for_excel_too(app, session, network, lithuanian_admin):
    """On every page with a CSV download, each plain CSV link has a twin for Excel in
    the reader's language (';' in Lithuanian): the same header and rows, read with
    Python's csv module in the flavour each declares."""
    snapshot, template = _snapshot_and_template(app, session, network)
    quiz = next(item for item in network.courses["ethics"].items if item.kind == "quiz")
    pages = {
        "/reports": 1,
        "/reports/competencies": 1,
        "/trainer/courses/ethics": 3,  # progress, quiz results, quiz responses
        "/network/monitoring": 1,
        "/network/picture": 1,
        "/network/monitoring/indicators": 2,  # evidence of each indicator (two or more)
        f"/network/monitoring/snapshots/{snapshot.id}": 2,
        f"/admin/plans/{template.id}/gap": 1,
        "/admin/users": 1,
    }
    for page, at_least in pages.items():
        response = lithuanian_admin.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        plain = re.findall(r'href="(/[^"?]*?(?<!-excel)\.csv)(?:\?[^"]*)?"[^>]*download>', html)
        excel = re.findall(r'href="(/[^"?]*?-excel\.csv)(?:\?[^"]*)?"[^>]*download>', html)
        assert len(plain) >= at_least, (page, plain)
        assert sorted(path.replace("-excel.csv", ".csv") for path in excel) == sorted(plain), page
        for path in excel:
            plain_path = path.replace("-excel.csv", ".csv")
            for_excel = lithuanian_admin.get(path)
            assert for_excel.status_code == 200, path
            assert for_excel.headers["Content-Type"] == "text/csv; charset=utf-8", path
            assert for_excel.headers["Content-Disposition"].startswith("attachment; filename="), (
                path
            )
            table = read(for_excel.get_data(), ";")
            assert all(len(row) == len(table[0]) for row in table), path
            # The same cells, a decimal written "87,5" rather than "87.5".
            as_plain = [[_dot(cell) for cell in row] for row in table]
            assert as_plain == read(lithuanian_admin.get(plain_path).get_data(), ","), path
    # The quiz's downloads are among the trainer's desk's.
    assert f'/trainer/courses/ethics/quizzes/{quiz.id}/responses-excel.csv"' in (
        lithuanian_admin.get("/trainer/courses/ethics").get_data(as_text=True)
    )


def _dot(cell: str) -> str:
    return cell.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", cell) else cell


def test_the_users_file_for_excel_imports_unchanged(session, network, lithuanian_admin):
    """Downloaded for Excel in Lithuanian (';'), the users file is still the import's
    file: importing it back changes no one."""
    from vle.accounts import bulk

    network.users["lina"].name = "=1+2; Lina"
    session.commit()
    data = lithuanian_admin.get("/admin/users/export-excel.csv").get_data()
    table = read(data, ";")
    assert table[0] == ["email", "name", "role", "organisation", "active", "language"]
    assert [row[1] for row in table if row[0] == "lina@example.org"] == ["'=1+2; Lina"]
    plan = bulk.plan_import(session, network.users["netadmin"], bulk.read_users_csv(data))
    assert {row.action for row in plan.rows} == {"unchanged"}
    assert len(plan.rows) == len(table) - 1


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/trainer/courses/ethics/progress-excel.csv?organisation=SCHOOL&status=completed",
         "progress-ethics-school-completed-{today}.csv"),
        ("/network/monitoring/figures.xlsx?organisation=MUNI&since=2025-01-01&until=2025-06-30",
         "monitoring-muni-2025-01-01_2025-06-30.xlsx"),
        ("/network/picture/pairs-excel.csv", "cooperating-pairs-{today}.csv"),
        ("/admin/users/export-excel.csv?organisation=SCHOOL", "users-school-{today}.csv"),
    ],
)  # fmt: skip
def test_the_other_downloads_are_named_by_their_filters_too(lithuanian_admin, path, name):
    from zoneinfo import ZoneInfo

    from vle.db import utcnow

    response = lithuanian_admin.get(path)
    body = response.get_data()  # read to its end, as a browser would …
    response.close()  # … and closed: a streamed file's cursor is closed with it
    assert response.status_code == 200, body[:300]
    # The day is the reader's (Vilnius) or UTC's: around midnight they differ.
    days = {utcnow().date(), utcnow().astimezone(ZoneInfo("Europe/Vilnius")).date()}
    names = {name.format(today=day.isoformat()) for day in days}
    assert response.headers["Content-Disposition"] in {
        f"attachment; filename=\"{n}\"; filename*=UTF-8''{n}" for n in names
    }
