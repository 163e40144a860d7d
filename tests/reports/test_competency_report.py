"""The competency report (issue 16, point 8): one row per learner × competency, on the
Reports page, in its downloads, from the API and the command line — under every rule
of the completion report. The network and its ratings: tests/reports/conftest.py."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest

from tests.conftest import login
from tests.reports.conftest import at
from vle.api.openapi import openapi_document
from vle.audit import AuditEntry
from vle.competencies import services as engine
from vle.errors import Forbidden
from vle.learning import events
from vle.learning.models import Completion, Enrolment
from vle.reports import competencies as report
from vle.reports import services
from vle.reports.scope import OPERATOR, FilterErrors, OutOfScope

URL = "/api/v1/reports/competencies"
ALL = {
    ("sam@example.org", "ETH-1"), ("sam@example.org", "ETH-2"), ("sam@example.org", "SAF-1"),
    ("sam@example.org", "OTH-1"), ("lina@example.org", "ETH-1"), ("olga@example.org", "ETH-1"),
    ("mona@example.org", "SAF-1"),
}  # fmt: skip


def rows(session, scope=OPERATOR, sort=report.DEFAULT_SORT, **filters):
    resolved = report.resolve_filters(session, scope, **filters)
    return list(report.iter_competency_rows(session, resolved, scope, sort))


def pairs(found) -> set[tuple[str, str]]:
    return {
        (r.email, r.competency) if hasattr(r, "email") else (r["email"], r["competency"])
        for r in found
    }


def signed_in(client, user):
    assert login(client, user.email).status_code == 302
    return client


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # the BOM: Excel reads Lithuanian letters
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def page_pairs(html: str) -> list[tuple[str, str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        email = re.search(r"<td>([^<@]+@example\.org)</td>", row).group(1)
        code = re.findall(r'<span class="meta">\(([^)]+)\)</span>', row)[-1]
        found.append((email, code))
    return found


# --- service: rows, scope, filters ---------------------------------------------------------


def test_one_row_per_learner_and_competency_with_every_column(session, network):
    found = rows(session)
    # Sara's self-assessment alone is no rating: no row for her.
    assert pairs(found) == ALL
    sam = next(r for r in found if (r.email, r.competency) == ("sam@example.org", "ETH-2"))
    assert sam.learner_name == "Samas Šimkus"
    assert (sam.organisation_code, sam.organisation_name) == ("SCHOOL", "School")
    assert (sam.framework, sam.competency_title) == ("ETH", "Conflicts of interest")
    assert (sam.rating, sam.proficient, sam.evidence_count) == ("proficient", True, 2)
    assert sam.rated_at == datetime(2025, 2, 15, 12, tzinfo=UTC)
    olga = next(r for r in found if r.email == "olga@example.org")
    assert (olga.rating, olga.proficient, olga.rated_at) == (None, False, None)
    assert report.json_row(sam) == {
        "learner_name": "Samas Šimkus", "email": "sam@example.org", "organisation_code": "SCHOOL",
        "organisation_name": "School", "framework": "ETH", "competency": "ETH-2",
        "competency_title": "Conflicts of interest", "rating": "proficient", "proficient": True,
        "rated_at": "2025-02-15T12:00:00Z", "evidence_count": 2,
    }  # fmt: skip
    assert tuple(report.json_row(sam)) == report.JSON_KEYS


def test_scoped_administrators_see_only_their_subtree(session, network):
    u = network.users
    muni = services.scope_for(u["muniadmin"])
    assert {e for e, _c in pairs(rows(session, muni))} == {
        "sam@example.org", "lina@example.org", "mona@example.org"
    }  # fmt: skip
    school = services.scope_for(u["schooladmin"])
    assert pairs(rows(session, school)) == {p for p in ALL if p[0] == "sam@example.org"}
    with pytest.raises(OutOfScope):
        report.resolve_filters(session, school, organisation="LIB")
    with pytest.raises(OutOfScope):
        report.resolve_filters(session, muni, organisation="OTHER")
    # A filter narrows the scope, never widens it.
    assert pairs(rows(session, muni, organisation="SCHOOL")) == pairs(rows(session, school))
    assert pairs(rows(session, services.scope_for(u["netadmin"]))) == ALL


def test_trainers_see_their_learners_in_the_frameworks_linked_to_their_courses(session, network):
    u = network.users
    # Tadas trains ethics (ETH): its learners sam, lina, olga (and sara) — in ETH only;
    # not sam's SAFE or OTH ratings, not mona (not in ethics).
    trainer = services.scope_for(u["trainer"])
    assert pairs(rows(session, trainer)) == {
        ("sam@example.org", "ETH-1"), ("sam@example.org", "ETH-2"),
        ("lina@example.org", "ETH-1"), ("olga@example.org", "ETH-1"),
    }  # fmt: skip
    trainer2 = services.scope_for(u["trainer2"])  # safety: sam, mona, olga — in SAFE only
    assert pairs(rows(session, trainer2)) == {
        ("sam@example.org", "SAF-1"), ("mona@example.org", "SAF-1"),
    }  # fmt: skip
    with pytest.raises(OutOfScope) as refused:
        report.resolve_filters(session, trainer, framework="SAFE")
    assert refused.value.field == "framework"
    with pytest.raises(OutOfScope):
        report.resolve_filters(session, trainer, competency="OTH-1")
    assert [f.code for f in report.frameworks_in_scope(session, trainer)] == ["ETH"]


def test_learners_have_no_report(session, network):
    with pytest.raises(Forbidden):
        services.scope_for(network.users["sam"])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"framework": "ETH"}, {p for p in ALL if p[1].startswith("ETH")}),
        ({"competency": "SAF-1"}, {p for p in ALL if p[1] == "SAF-1"}),
        ({"rating": "proficient"}, {
            ("sam@example.org", "ETH-1"), ("sam@example.org", "ETH-2"),
            ("sam@example.org", "OTH-1"), ("lina@example.org", "ETH-1"),
            ("mona@example.org", "SAF-1")}),
        ({"rating": "not_proficient"}, {("sam@example.org", "SAF-1"), ("olga@example.org", "ETH-1")}),
        ({"rating": "competent"}, {
            ("sam@example.org", "ETH-1"), ("sam@example.org", "OTH-1"),
            ("lina@example.org", "ETH-1")}),
        ({"rating": "not_yet", "framework": "SAFE"}, {("sam@example.org", "SAF-1")}),
        ({"organisation": "LIB"}, {("lina@example.org", "ETH-1")}),
        # Rated in February 2025 (UTC): sam's two ETH ratings.
        ({"since": "2025-02-01", "until": "2025-02-28"},
         {("sam@example.org", "ETH-1"), ("sam@example.org", "ETH-2")}),
        # A standing with no rating has no rating time: outside any period.
        ({"since": "2024-01-01"}, ALL - {("olga@example.org", "ETH-1")}),
    ],
)  # fmt: skip
def test_filters(session, network, filters, expected):
    assert pairs(rows(session, **filters)) == expected


def test_the_period_is_whole_days_in_the_readers_time_zone(session, network):
    from zoneinfo import ZoneInfo

    # Lina was rated at 23:00 UTC on 31 March: 1 April in Vilnius.
    vilnius = ZoneInfo("Europe/Vilnius")
    march = rows(session, since="2025-03-31", until="2025-03-31", tz=vilnius)
    april = rows(session, since="2025-04-01", until="2025-04-01", tz=vilnius)
    assert "lina@example.org" not in {r.email for r in march}
    assert {r.email for r in april} == {"lina@example.org"}
    assert {r.email for r in rows(session, since="2025-03-31", until="2025-03-31")} == {
        "lina@example.org"
    }


@pytest.mark.parametrize(
    ("filters", "field", "words"),
    [
        ({"organisation": "NOPE"}, "organisation", "There is no organisation with the code “NOPE”."),
        ({"framework": "NOPE"}, "framework", "There is no competency framework with the code “NOPE”."),
        ({"competency": "NOPE"}, "competency", "There is no competency with the code “NOPE”."),
        ({"competency": "SAF-1", "framework": "ETH"}, "competency", "is not in the framework"),
        ({"rating": "excellent"}, "rating", "Unknown rating “excellent”"),
        ({"rating": "not_yet", "framework": "NOPE"}, "framework", "There is no competency"),
        ({"since": "March"}, "since", "is not a date"),
        ({"since": "2025-03-01", "until": "2025-02-01"}, "until", "before its start"),
        ({"until": "3001-01-01"}, "until", "3001-01-01"),
    ],
)  # fmt: skip
def test_bad_filters_are_named(session, network, filters, field, words):
    with pytest.raises(FilterErrors) as error:
        report.resolve_filters(session, OPERATOR, **filters)
    assert field in error.value.errors and words in error.value.errors[field]


@pytest.mark.parametrize("sort", [*report.SORT_COLUMNS, *("-" + k for k in report.SORT_COLUMNS)])
def test_the_page_and_the_export_follow_the_same_sort(session, network, sort, monkeypatch):
    # Sorted by learner, the export reads a few learners at a time: two here, so that
    # the seven rows come in several chunks and must still follow the page's order.
    monkeypatch.setattr(report, "LEARNERS_PER_CHUNK", 2)
    whole = [(r.email, r.competency) for r in rows(session, sort=sort)]
    filters = report.resolve_filters(session, OPERATOR)
    page = report.competency_page(session, filters, OPERATOR, sort, 1, 25)
    assert [(r.email, r.competency) for r in page.rows] == whole
    assert len(set(whole)) == len(whole) == 7
    if sort == "learner":
        names = [r.learner_name for r in rows(session, sort=sort)]
        assert names == sorted(names)
    if sort in ("-rated", "rated"):
        assert whole[-1] == ("olga@example.org", "ETH-1")  # not rated: last either way
    if sort == "-evidence":
        assert [r.evidence_count for r in rows(session, sort=sort)][:4] == [2, 2, 2, 2]


def test_the_page_counts_proficient_and_is_a_fixed_number_of_queries(
    session, network, count_queries
):
    filters = report.resolve_filters(session, OPERATOR)
    with count_queries() as counter:
        page = report.competency_page(session, filters, OPERATOR)
    assert (page.total, page.proficient) == (7, 5)
    assert counter.count <= 4


def test_csv_export_is_the_rows_written_cell_by_cell(session, network):
    # The CSV's quicker path against the general writer, formula-like text in every
    # column that holds text.
    network.users["sam"].name = "=HYPERLINK(1)"
    network.users["lina"].email = "  -lina@example.org"
    network.orgs["SCHOOL"].name = "+School"
    network.competencies["ETH-1"].code = "@ETH-1"
    network.competencies["ETH-2"].title = "-Conflicts"
    network.frameworks["ETH"].code = "=ETH"
    session.commit()
    filters = report.resolve_filters(session, OPERATOR)
    for zone in ("UTC", "Europe/Vilnius", "America/St_Johns"):
        tz = services.zone(zone)
        headers = report.spreadsheet_headers(tz)
        for sort in [*report.SORT_COLUMNS, *("-" + k for k in report.SORT_COLUMNS)]:
            expected = b"".join(
                report.writers.csv_chunks(headers, report.spreadsheet_rows(
                    report.iter_competency_rows(session, filters, OPERATOR, sort), tz,
                    text_times=True))
            )  # fmt: skip
            exported = b"".join(
                report.export_chunks("csv", lambda: session, filters, OPERATOR, sort, tz)
            )
            assert exported == expected, (zone, sort)
    for text in (b"'=HYPERLINK(1)", b"'  -lina@", b"'+School", b"'@ETH-1", b"'-Conflicts",
                 b"'=ETH"):  # fmt: skip
        assert text in exported


# --- the completion report's competencies column --------------------------------------------


def test_completion_report_lists_what_the_learner_is_proficient_in(session, network):
    found = services.iter_completion_rows(
        session, services.resolve_filters(session, OPERATOR), OPERATOR, "learner"
    )
    by = {(r.email, r.course): r.competencies for r in found}
    assert by[("sam@example.org", "ethics")] == ["ETH-1", "ETH-2"]  # linked: course and quiz
    assert by[("lina@example.org", "ethics")] == ["ETH-1"]  # not ETH-2: not proficient
    assert by[("sam@example.org", "safety")] == []  # SAF-1 rated not_yet
    assert by[("mona@example.org", "safety")] == ["SAF-1"]
    assert by[("olga@example.org", "ethics")] == []  # evidence, no rating
    # OTH-1 (sam proficient) is linked to no course: in no row.
    assert all("OTH-1" not in codes for codes in by.values())


def test_completion_column_follows_the_engine(session, network):
    """Completing a course through the engine makes the column show the competency."""
    u, c = network.users, network.courses
    completion = Completion(user_id=u["mona"].id, course_id=c["ethics"].id,
                            completed_at=at("2025-05-01"))  # fmt: skip
    session.add(completion)
    session.flush()
    engine.on_course_completed(
        events.CourseCompleted(session, u["mona"].id, c["ethics"], completion)
    )
    session.commit()
    session.add(Enrolment(user_id=u["mona"].id, course_id=c["ethics"].id, status="completed",
                          progress=100, enrolled_at=at("2025-04-01"),
                          completed_at=at("2025-05-01")))  # fmt: skip
    session.commit()
    found = services.iter_completion_rows(
        session, services.resolve_filters(session, OPERATOR, course="ethics"), OPERATOR
    )
    assert {r.email: r.competencies for r in found}["mona@example.org"] == ["ETH-1"]
    mona = [r for r in rows(session, competency="ETH-1") if r.email == "mona@example.org"]
    assert [(r.rating, r.proficient) for r in mona] == [("competent", True)]


# --- the page and its downloads ---------------------------------------------------------------


def test_only_staff_reach_the_report(client, network):
    assert client.get("/reports/competencies").status_code == 302  # to the sign-in page
    signed_in(client, network.users["sam"])
    assert client.get("/reports/competencies").status_code == 403
    for fmt in ("csv", "xlsx", "json"):
        assert client.get(f"/reports/competencies.{fmt}").status_code == 403


def test_the_reports_page_links_to_the_competency_report(client, network):
    for who in ("netadmin", "trainer"):
        client.get("/logout")
        signed_in(client, network.users[who])
        page = client.get("/reports").get_data(as_text=True)
        assert 'href="/reports/competencies"' in page and "Competency report" in page


def test_downloads_hold_the_rows_of_the_screen(client, network):
    signed_in(client, network.users["netadmin"])
    query = "framework=ETH&sort=-rated&per_page=25"
    response = client.get(f"/reports/competencies?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = page_pairs(html)
    assert len(shown) == 4 and "Ratings 1–4 of 4" in html
    table = csv_rows(client.get(f"/reports/competencies.csv?{query}").get_data())
    assert table[0][:2] == ["Learner", "Email"] and table[0][9].startswith("Rated at (")
    assert [(r[1], r[5]) for r in table[1:]] == shown
    body = json.loads(client.get(f"/reports/competencies.json?{query}").get_data())
    assert list(body) == ["rows", "total"] and body["total"] == 4
    assert [(r["email"], r["competency"]) for r in body["rows"]] == shown
    xlsx = client.get(f"/reports/competencies.xlsx?{query}").get_data()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in book.namelist()
            else ""
        )
    emails = re.findall(r"<t>([^<]+@example\.org)</t>", sheet + strings)
    assert [e for e in emails] == [e for e, _c in shown]
    # Every page of it: the download holds all rows, not the first page's.
    many = client.get("/reports/competencies?per_page=25&page=9").get_data(as_text=True)
    assert "Ratings 1–7 of 7" in many  # a page past the end shows the last one


def test_downloads_speak_the_readers_language_and_time_zone(client, network, session):
    admin = network.users["netadmin"]
    admin.locale, admin.timezone = "lt", "Europe/Vilnius"
    session.commit()
    signed_in(client, admin)
    table = csv_rows(
        client.get("/reports/competencies.csv?competency=ETH-1&sort=learner").get_data()
    )
    assert table[0][0] == "Besimokantysis"  # "Learner" in Lithuanian
    assert "Europe/Vilnius" in table[0][9]
    lina = next(r for r in table if r[1] == "lina@example.org")
    assert lina[9] == "2025-04-01 02:00:00"  # 23:00 UTC is 02:00 the next day in Vilnius
    assert lina[7] == "competent" and lina[8] not in ("yes", "", "true")  # a Lithuanian word
    body = json.loads(client.get("/reports/competencies.json?competency=ETH-1").get_data())
    lina_json = next(r for r in body["rows"] if r["email"] == "lina@example.org")
    assert lina_json["proficient"] is True and lina_json["rated_at"] == "2025-03-31T23:00:00Z"


def test_bad_filters_on_the_page_say_what_is_wrong(client, network, session):
    signed_in(client, network.users["netadmin"])
    response = client.get("/reports/competencies?framework=NOPE&since=March")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is no competency framework with the code “NOPE”." in page
    assert "is not a date" in page
    before = session.query(AuditEntry).count()
    assert client.get("/reports/competencies.csv?rating=excellent").status_code == 422
    assert session.query(AuditEntry).count() == before  # nothing exported, nothing noted
    client.get("/logout")
    signed_in(client, network.users["schooladmin"])
    assert client.get("/reports/competencies?organisation=LIB").status_code == 403
    assert client.get("/reports/competencies.csv?organisation=LIB").status_code == 403


def test_scoped_pages_and_downloads(client, network):
    signed_in(client, network.users["trainer"])
    html = client.get("/reports/competencies").get_data(as_text=True)
    assert sorted(page_pairs(html)) == sorted([
        ("sam@example.org", "ETH-1"), ("sam@example.org", "ETH-2"),
        ("lina@example.org", "ETH-1"), ("olga@example.org", "ETH-1")])  # fmt: skip
    assert client.get("/reports/competencies?framework=SAFE").status_code == 403
    body = json.loads(client.get("/reports/competencies.json").get_data())
    assert {r["framework"] for r in body["rows"]} == {"ETH"} and body["total"] == 4


def test_a_download_is_audited(client, network, session):
    signed_in(client, network.users["netadmin"])
    client.get("/reports/competencies.csv?framework=ETH").get_data()
    entry = session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    assert entry.action == "report.export"
    assert entry.details["report"] == "competencies" and entry.details["via"] == "page"
    assert entry.details["filters"] == {"framework": "ETH"}


# --- the API ---------------------------------------------------------------------------------


def assert_error(response, status):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "request_id"} and body["error"]["message"]
    return body["error"]["message"]


def test_api_json_and_csv(client, network, token_for):
    headers = token_for(network.users["netadmin"])
    body = client.get(URL, headers=headers).get_json()
    assert list(body) == ["rows", "total"] and body["total"] == 7
    assert pairs(body["rows"]) == ALL
    assert all(tuple(r) == report.JSON_KEYS for r in body["rows"])
    narrowed = client.get(f"{URL}?organisation=MUNI&framework=ETH&rating=proficient"
                          "&since=2025-01-01&until=2025-12-31", headers=headers).get_json()  # fmt: skip
    assert pairs(narrowed["rows"]) == {
        ("sam@example.org", "ETH-1"), ("sam@example.org", "ETH-2"), ("lina@example.org", "ETH-1")
    }  # fmt: skip
    response = client.get(f"{URL}?format=csv&competency=SAF-1&sort=email", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = csv_rows(response.get_data())
    assert [r[1] for r in table[1:]] == ["mona@example.org", "sam@example.org"]


def test_api_refuses_learners_strangers_and_bad_filters(client, network, token_for):
    assert_error(client.get(URL), 401)
    assert_error(client.get(URL, headers=token_for(network.users["sam"])), 403)
    school = token_for(network.users["schooladmin"])
    assert_error(client.get(f"{URL}?organisation=MUNI", headers=school), 403)
    trainer = token_for(network.users["trainer"])
    assert_error(client.get(f"{URL}?framework=SAFE", headers=trainer), 403)
    admin = token_for(network.users["netadmin"])
    for query, words in (
        ("framework=NOPE", "There is no competency framework"),
        ("rating=excellent", "Unknown rating"),
        ("since=2025-13-01", "is not a date"),
        ("format=xlsx", "“format” must be json or csv."),
    ):
        assert words in assert_error(client.get(f"{URL}?{query}", headers=admin), 422)


def test_api_is_in_the_openapi_document(app):
    document = openapi_document()
    operation = document["paths"]["/api/v1/reports/competencies"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"organisation", "framework", "competency", "rating", "since", "until",
            "format"} <= names  # fmt: skip
    row = document["components"]["schemas"]["CompetencyReportRow"]
    assert tuple(row["required"]) == report.JSON_KEYS


# --- the command line ----------------------------------------------------------------------


def run(runner, *args):
    return runner.invoke(args=["report", "competencies", *args])


def test_cli_writes_csv_xlsx_and_json(runner, network, tmp_path):
    target = tmp_path / "report.csv"
    result = run(runner, "--format", "csv", "-o", str(target), "--framework", "ETH")
    assert result.exit_code == 0, result.output
    assert "4 row(s) written" in result.output
    table = csv_rows(target.read_bytes())
    assert len(table) == 5 and table[0][1] == "Email"
    xlsx = tmp_path / "report.xlsx"
    assert run(runner, "--format", "xlsx", "-o", str(xlsx)).exit_code == 0
    assert zipfile.is_zipfile(xlsx)
    out = tmp_path / "report.json"
    result = run(runner, "--format", "json", "-o", str(out), "--organisation", "SCHOOL",
                 "--competency", "ETH-2", "--since", "2025-02-15", "--until", "2025-02-15")  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["total"] == 1 and body["rows"][0]["email"] == "sam@example.org"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--organisation", "NOPE"], "There is no organisation with the code “NOPE”."),
        (["--framework", "NOPE"], "There is no competency framework"),
        (["--competency", "NOPE"], "There is no competency with the code"),
        (["--rating", "excellent"], "Unknown rating"),
        (["--since", "2025-03-01", "--until", "2025-02-01"], "before its start"),
    ],
)
def test_cli_bad_input_is_an_error_and_writes_nothing(runner, network, tmp_path, args, words):
    target = tmp_path / "report.csv"
    result = run(runner, "--format", "csv", "-o", str(target), *args)
    assert result.exit_code == 1 and words in result.output
    assert not target.exists() and not (tmp_path / "report.csv.part").exists()
