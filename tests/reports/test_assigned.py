"""Assigned training in the completion report: assigned people who never started
are rows with not_started, with their due date and overdue; the overdue filter;
the downloads' columns; the dashboard counts them."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest

from tests.reports.test_views import csv_rows, signed_in
from vle.learning import assignments
from vle.reports import services

PAST = date.today() - timedelta(days=3)
FUTURE = date.today() + timedelta(days=30)


@pytest.fixture
def assigned(app, session, network):
    """Safety assigned to Lina (due in the past) and to Sara (due later): neither
    has started it. Sam, in progress in safety, is assigned it with a past date
    too; Mona completed it before, and is assigned it past its date."""
    u, safety = network.users, network.courses["safety"]
    with app.app_context():
        assignments.assign_people(session, u["netadmin"], safety, [(1, "lina@example.org")], PAST)
        assignments.assign_people(session, u["netadmin"], safety, [(1, "sara@example.org")], FUTURE)
        assignments.assign_people(
            session,
            u["netadmin"],
            safety,
            [(1, "sam@example.org"), (2, "mona@example.org")],
            PAST,
        )
    session.commit()
    return network


def rows_by_email(session, network, **filters):
    scope = services.scope_for(network.users["netadmin"])
    resolved = services.resolve_filters(session, scope, course="safety", **filters)
    return {row.email: row for row in services.iter_completion_rows(session, resolved, scope)}


def test_assigned_people_are_rows_not_started_with_due_and_overdue(session, assigned):
    rows = rows_by_email(session, assigned)
    lina, sara, sam, mona = (rows[f"{n}@example.org"] for n in ("lina", "sara", "sam", "mona"))
    assert (lina.status, lina.due, lina.overdue) == ("not_started", PAST, True)
    assert (sara.status, sara.due, sara.overdue) == ("not_started", FUTURE, False)
    assert (sam.status, sam.overdue) == ("in_progress", True)
    assert (mona.status, mona.overdue) == ("completed", False)  # completed is never overdue
    scope = services.scope_for(assigned.users["netadmin"])
    totals = services.completion_totals(
        session, services.resolve_filters(session, scope, course="safety"), scope
    )
    assert totals.not_started == 3  # lina, sara and olga (enrolled herself)


def test_the_overdue_filter(session, assigned):
    assert set(rows_by_email(session, assigned, status="overdue")) == {
        "lina@example.org",
        "sam@example.org",
    }
    with pytest.raises(services.FilterErrors):
        rows_by_email(session, assigned, status="late")


def test_the_page_shows_due_dates_and_filters_overdue(client, assigned):
    signed_in(client, assigned.users["netadmin"])
    html = client.get("/reports?course=safety&status=overdue").get_data(as_text=True)
    assert "lina@example.org" in html and "sam@example.org" in html
    assert "sara@example.org" not in html and "mona@example.org" not in html
    assert re.search(r'<option (selected )?value="overdue"( selected)?>Overdue</option>', html)
    assert '<th scope="col">Due date</th>' in html


def test_the_downloads_carry_due_and_overdue(client, assigned):
    signed_in(client, assigned.users["netadmin"])
    rows = csv_rows(client.get("/reports/completion.csv?course=safety&sort=learner"))
    assert rows[0][12:14] == ["Due date", "Overdue"]
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email["lina@example.org"][12:14] == [PAST.isoformat(), "yes"]
    assert by_email["sara@example.org"][12:14] == [FUTURE.isoformat(), ""]
    assert by_email["olga@example.org"][12:14] == ["", ""]
    body = json.loads(client.get("/reports/completion.json?course=safety&status=overdue").data)
    assert {(r["email"], r["due"], r["overdue"]) for r in body["rows"]} == {
        ("lina@example.org", PAST.isoformat(), True),
        ("sam@example.org", PAST.isoformat(), True),
    }
    xlsx = client.get("/reports/completion.xlsx?course=safety&status=overdue").get_data()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>Due date</t>" in sheet and "<t>Overdue</t>" in sheet
    assert sheet.count("<t>yes</t>") == 2
    assert len(re.findall(r"<t>[^<]+@example\.org</t>", sheet)) == 2


def test_the_api_report_and_my_enrolments(client, assigned, token_for):
    response = client.get(
        "/api/v1/reports/completion?course=safety&status=overdue",
        headers=token_for(assigned.users["netadmin"]),
    )
    assert {r["email"] for r in response.get_json()["rows"]} == {
        "lina@example.org",
        "sam@example.org",
    }
    mine = client.get("/api/v1/me/enrolments", headers=token_for(assigned.users["lina"]))
    safety = next(e for e in mine.get_json()["enrolments"] if e["course"] == "safety")
    assert (safety["status"], safety["due"], safety["overdue"]) == (
        "not_started",
        PAST.isoformat(),
        True,
    )


def test_the_dashboard_counts_assigned_people(session, assigned):
    scope = services.scope_for(assigned.users["netadmin"])
    board = services.dashboard(session, scope)
    safety = next(row for row in board.by_course if row.code == "safety")
    # sam, mona, olga before; lina and sara assigned.
    assert (safety.enrolled, safety.completed) == (5, 1)
    assert board.total.overdue == 2  # lina and sam
    muni = services.dashboard(session, services.scope_for(assigned.users["muniadmin"]))
    assert muni.total.overdue == 2  # both in the municipality's subtree


def test_the_dashboard_page_links_to_the_overdue(client, assigned):
    signed_in(client, assigned.users["netadmin"])
    html = client.get("/reports/dashboard").get_data(as_text=True)
    assert "<dt>Overdue</dt>" in html and "status=overdue" in html


def test_the_report_stays_a_fixed_number_of_queries(client, assigned, count_queries):
    signed_in(client, assigned.users["netadmin"])
    with count_queries() as counter:
        client.get("/reports?status=overdue")
    first = counter.count
    with count_queries() as counter:
        client.get("/reports")
    assert counter.count == first


def test_the_csv_export_writes_due_and_overdue_as_the_general_writer_does(session, assigned):
    # The CSV export takes its own quicker way (the day as text from the database,
    # overdue decided in SQL): byte for byte what the general writer makes of the rows.
    from vle.reports import writers

    filters = services.resolve_filters(session, services.OPERATOR)
    tz = services.zone("Europe/Vilnius")
    headers = services.spreadsheet_headers(tz)
    for sort in ("-enrolled", "status", "learner"):
        rows = services.iter_completion_rows(session, filters, services.OPERATOR, sort)
        expected = b"".join(
            writers.csv_chunks(headers, services.spreadsheet_rows(rows, tz, text_times=True))
        )
        exported = b"".join(
            services.export_chunks("csv", lambda: session, filters, services.OPERATOR, sort, tz)
        )
        assert exported == expected, sort
    assert PAST.isoformat().encode() + b",yes" in exported
