"""The Reports page, its downloads and the dashboard, as administrators and trainers use them."""

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


def signed_in(client, user):
    response = login(client, user.email)
    assert response.status_code == 302
    return client


def page_emails(html: str) -> list[str]:
    """The learners' emails in the report table, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r"<td>([^<@]+@example\.org)</td>", body)


def csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def admin_client(client, network):
    return signed_in(client, network.users["netadmin"])


def test_only_staff_reach_the_reports(client, network):
    assert client.get("/reports").status_code == 302  # to the sign-in page
    signed_in(client, network.users["sam"])
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/completion.csv").status_code == 403
    assert client.get("/reports/dashboard").status_code == 403
    assert ">Reports<" not in client.get("/my").get_data(as_text=True)


def test_page_shows_rows_totals_and_download_actions(admin_client, network):
    html = admin_client.get("/reports").get_data(as_text=True)
    assert ">Reports</a>" in html and 'aria-current="page">Reports' in html  # the nav link
    assert "<h1>Reports</h1>" in html
    for label in ("Organisation", "Course", "From", "To", "Status"):
        assert f">{label}</label>" in html
    assert len(page_emails(html)) == 7
    assert "Samas Šimkus" in html and "Ethics at work" in html
    assert re.search(r"<dt>Enrolled</dt><dd>7</dd>", html)
    assert re.search(r"<dt>Completed</dt><dd>3</dd>", html)
    assert re.search(r"<dt>Completion rate</dt><dd>43%</dd>", html)
    assert ">Download CSV</a>" in html and ">Download Excel</a>" in html
    assert "87.5%" in html  # sam's best quiz score (British English: no space)
    assert "ETH-1, ETH-2" in html
    # Newest enrolment first by default, and the column says so.
    assert page_emails(html)[0] == "olga@example.org"
    assert 'aria-sort="descending"' in html
    assert "style=" not in html and "<script>" not in html  # the CSP forbids inline code


def test_filters_narrow_the_page_and_keep_their_values(admin_client, network):
    html = admin_client.get(
        "/reports?organisation=MUNI&course=ethics&status=completed&since=2025-01-01"
        "&until=2025-12-31"
    ).get_data(as_text=True)
    assert sorted(page_emails(html)) == ["lina@example.org", "sam@example.org"]
    assert '<option selected value="MUNI">' in html
    assert 'value="2025-01-01"' in html and 'type="date"' in html
    # The download links carry the same filters.
    link = re.search(r'href="(/reports/completion\.csv\?[^"]+)"', html).group(1)
    for part in ("organisation=MUNI", "course=ethics", "status=completed", "since=2025-01-01"):
        assert part in link


def test_bad_filters_give_form_errors_and_no_rows(admin_client, network):
    response = admin_client.get("/reports?organisation=NOPE&since=2025-03-01&until=2025-02-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    assert "There is no organisation with the code “NOPE”." in html
    assert "The end of the period is before its start." in html
    assert 'aria-invalid="true"' in html
    assert page_emails(html) == [] and "Download CSV" not in html
    response = admin_client.get("/reports/completion.csv?course=nope")
    assert response.status_code == 422 and "There is no course “nope”." in response.get_data(
        as_text=True
    )
    assert admin_client.get("/reports?since=31.12.2025").status_code == 422


def test_scoped_admin_never_sees_rows_outside_its_subtree_on_the_page_or_in_files(client, network):
    signed_in(client, network.users["schooladmin"])
    html = client.get("/reports").get_data(as_text=True)
    assert set(page_emails(html)) == {"sam@example.org", "sara@example.org"}
    assert "OTHER" not in html and "Library" not in html  # not even in the filter choices
    for fmt in ("csv", "json", "xlsx"):
        body = client.get(f"/reports/completion.{fmt}").get_data()
        assert b"sam@example.org" in body or fmt == "xlsx"
        for outsider in (b"lina@example.org", b"olga@example.org", b"mona@example.org"):
            assert outsider not in body
    rows = csv_rows(client.get("/reports/completion.csv"))
    assert {r[1] for r in rows[1:]} == {"sam@example.org", "sara@example.org"}
    # Naming an organisation outside the scope: refused, nothing shown or sent.
    for url in ("/reports?organisation=MUNI", "/reports/completion.csv?organisation=OTHER"):
        response = client.get(url)
        assert response.status_code == 403
        text = response.get_data(as_text=True)
        assert "is outside your scope" in text
        assert "lina@example.org" not in text and "olga@example.org" not in text


def test_trainer_reports_on_their_own_courses_only(client, network):
    signed_in(client, network.users["trainer"])
    html = client.get("/reports").get_data(as_text=True)
    assert ">Reports</a>" in html
    assert set(page_emails(html)) == {
        "sam@example.org", "sara@example.org", "lina@example.org", "olga@example.org",
    }  # fmt: skip
    assert "Safety first" not in html
    response = client.get("/reports?course=safety")
    assert response.status_code == 403 and "You do not train the course" in response.get_data(
        as_text=True
    )
    assert client.get("/reports/dashboard").status_code == 403  # the dashboard is for admins


def test_downloads_hold_exactly_the_rows_the_page_shows_all_pages(
    admin_client, network, make_user, enrol_at
):
    for n in range(30):
        learner = make_user("learner", network.orgs["LIB"], f"extra{n:02d}@example.org")
        enrol_at(learner, network.courses["safety"], datetime(2025, 1, 1, 8, n, tzinfo=UTC))
    query = "organisation=MUNI&sort=learner"
    shown = []
    for number in (1, 2):
        html = admin_client.get(f"/reports?{query}&page={number}").get_data(as_text=True)
        shown += page_emails(html)
    assert "Page 1 of 2" in admin_client.get(f"/reports?{query}").get_data(as_text=True)
    assert len(shown) == 35 and len(set(shown)) == 34  # sam is in two courses
    csv_response = admin_client.get(f"/reports/completion.csv?{query}")
    assert csv_response.mimetype == "text/csv"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.headers["Cache-Control"] == "no-store"
    assert [r[1] for r in csv_rows(csv_response)[1:]] == shown
    body = json.loads(admin_client.get(f"/reports/completion.json?{query}").get_data())
    assert [r["email"] for r in body["rows"]] == shown and body["total"] == 35
    xlsx = admin_client.get(f"/reports/completion.xlsx?{query}").get_data()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert re.findall(r"<t>([^<]+@example\.org)</t>", sheet) == shown


def test_csv_speaks_the_readers_language_and_time_zone(client, network, session):
    admin = network.users["netadmin"]
    admin.locale, admin.timezone = "lt", "Europe/Vilnius"
    session.commit()
    signed_in(client, admin)
    rows = csv_rows(client.get("/reports/completion.csv?sort=learner"))
    assert rows[0][0] == "Besimokantysis"  # "Learner": headers in the reader's language
    assert "Europe/Vilnius" in rows[0][6]
    lina = next(r for r in rows if r[1] == "lina@example.org")
    assert lina[7] == "Baigta"  # "Completed" in Lithuanian
    assert lina[9] == "2025-04-01 02:00:00"  # 23:00 UTC is 02:00 the next day in Vilnius
    assert lina[8] == "100" and lina[11] == "ETH-1"  # proficient in ETH-1 only
    sam = next(r for r in rows if r[1] == "sam@example.org" and r[4] == "ethics")
    assert sam[11] == "ETH-1, ETH-2"
    body = json.loads(client.get("/reports/completion.json?sort=learner").get_data())
    lina_json = next(r for r in body["rows"] if r["email"] == "lina@example.org")
    assert lina_json["status"] == "completed"  # JSON keeps the codes
    assert lina_json["completed_at"] == "2025-03-31T23:00:00Z"


def test_formula_like_names_are_neutralised_in_the_downloads(admin_client, network, session):
    sam = network.users["sam"]
    sam.name = '=HYPERLINK("http://evil.example","click")'
    session.commit()
    rows = csv_rows(admin_client.get("/reports/completion.csv?sort=learner"))
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","click")' in names
    assert not any(name.startswith("=") for name in names)
    sheet = admin_client.get("/reports/completion.xlsx").get_data()
    with zipfile.ZipFile(io.BytesIO(sheet)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    # Text, never a formula: written as it is, without an apostrophe.
    assert "<f>" not in xml and "<t>=HYPERLINK(" in xml and "'=HYPERLINK" not in xml


def test_report_page_is_a_fixed_number_of_queries(admin_client, network, make_user, enrol_at,
                                                   count_queries):  # fmt: skip
    with count_queries() as few:
        assert admin_client.get("/reports?per_page=100").status_code == 200
    for n in range(40):
        learner = make_user("learner", network.orgs["LIB"], f"more{n:02d}@example.org")
        enrol_at(
            learner, network.courses["ethics"], at("2025-01-01"), "completed", at("2025-02-01")
        )
    with count_queries() as many:
        html = admin_client.get("/reports?per_page=100").get_data(as_text=True)
    assert len(page_emails(html)) == 47
    assert many.count == few.count, many.statements


def test_dashboard_charts_each_with_a_data_table(admin_client, network):
    response = admin_client.get("/reports/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('role="img"') == 3  # three charts, each one named image
    for caption in ("Completion rate by organisation", "Completion rate by course",
                    "Course completions per month"):  # fmt: skip
        assert re.search(rf"<caption[^>]*>{caption}", html), caption
    assert 'scope="row"' in html and 'scope="col"' in html
    assert "Network" in html and "Other partner" in html and "Ethics at work" in html
    # No inline style or script (the page's scripts are files: CSP).
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert 'href="/reports/dashboard?organisation=NET"' in html  # drill down
    drilled = admin_client.get("/reports/dashboard?organisation=MUNI").get_data(as_text=True)
    figures = drilled.rsplit("</form>", 1)[1]  # after the filter form
    assert "Municipality (its own staff)" in figures and "School" in figures
    assert "Other partner" not in figures and "Olga" not in figures


def test_dashboard_of_a_scoped_admin(client, network):
    signed_in(client, network.users["muniadmin"])
    html = client.get("/reports/dashboard").get_data(as_text=True)
    assert "School" in html and "Library" in html and "Other partner" not in html
    response = client.get("/reports/dashboard?organisation=OTHER")
    assert response.status_code == 403 and "Other partner" not in response.get_data(as_text=True)
    assert client.get("/reports/dashboard?organisation=NOPE").status_code == 422


def test_a_download_gives_its_database_connection_back(admin_client, app):
    # The body streams after the view has returned: the connection it reads with must
    # still be returned to the pool when the body ends (else PostgreSQL keeps its locks).
    from vle import db

    pool = db.get_database(app).engine.pool
    for fmt in ("csv", "json", "xlsx"):
        response = admin_client.get(f"/reports/completion.{fmt}")
        assert len(response.get_data()) > 0
        response.close()
        assert pool.checkedout() == 0


def test_each_download_is_in_the_audit_log(client, network, session):
    from sqlalchemy import select

    from vle.audit import AuditEntry

    signed_in(client, network.users["muniadmin"])
    client.get("/reports/completion.csv?organisation=SCHOOL&status=completed").get_data()
    client.get("/reports/completion.xlsx").get_data()
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target_type, e.details["format"], e.details["via"]) for e in entries] == [
        ("report.export", "report", "csv", "page"),
        ("report.export", "report", "xlsx", "page"),
    ]
    first, second = entries
    assert first.actor_id == network.users["muniadmin"].id and first.address == "127.0.0.1"
    assert first.details["filters"] == {"organisation": "SCHOOL", "status": "completed"}
    # Readable by the administrators of what it covers: the school; the municipality.
    assert first.organisation_id == network.orgs["SCHOOL"].id
    assert second.organisation_id == network.orgs["MUNI"].id
    # A refused download is no export.
    client.get("/reports/completion.csv?organisation=OTHER")
    assert len(session.scalars(select(AuditEntry)).all()) == 2


def test_nonsense_paging_and_sorting_fall_back_to_the_defaults(admin_client, network):
    response = admin_client.get("/reports?page=abc&per_page=7&sort=;drop table users")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(page_emails(html)) == 7 and 'aria-sort="descending"' in html
    assert admin_client.get("/reports?page=-3").status_code == 200
    assert admin_client.get("/reports?page=99999999999999999999").status_code == 200
