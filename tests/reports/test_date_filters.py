"""Far-off days in the report's date filters (issue 14, point 4).

`until=9999-12-31` (HR systems' "no end date") and `since=0001-01-01` have no
start-of-day instant in every time zone: the Reports page answered 500, and a
download started with 200 and broke off. Every face of the report now refuses a
day outside 1900-01-01..2999-12-31 with a clear message before anything is read
or sent, and takes the days at both ends of that range.
"""

from __future__ import annotations

import json
from datetime import UTC, date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import login
from vle.reports import services
from vle.reports.services import FilterErrors

FAR_OFF = [
    ("until=9999-12-31", "until", "9999-12-31"),
    ("since=0001-01-01", "since", "0001-01-01"),
    ("since=1899-12-31", "since", "1899-12-31"),
    ("until=3000-01-01", "until", "3000-01-01"),
    ("since=0001-01-01&until=9999-12-31", "until", "9999-12-31"),
]
OUT_OF_RANGE = "is out of range: choose a day from 1900-01-01 to 2999-12-31"


@pytest.fixture
def admin_client(client, network):
    login(client, network.users["netadmin"].email)
    return client


@pytest.mark.parametrize(("query", "name", "day"), FAR_OFF)
def test_the_reports_page_says_which_day_is_out_of_range(admin_client, query, name, day):
    response = admin_client.get(f"/reports?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"“{day}” {OUT_OF_RANGE}" in page
    assert f'id="{name}-error"' in page  # beside its field, tied to it for screen readers
    assert "sam@example.org" not in page  # no rows for filters that are wrong


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
@pytest.mark.parametrize(("query", "name", "day"), FAR_OFF)
def test_a_download_with_a_far_off_day_is_refused_before_it_starts(
    admin_client, session, fmt, query, name, day
):
    from sqlalchemy import func, select

    from vle.audit import AuditEntry

    response = admin_client.get(f"/reports/completion.{fmt}?{query}")
    assert response.status_code == 422
    assert response.mimetype == "text/html" and "Content-Disposition" not in response.headers
    assert f"“{day}” {OUT_OF_RANGE}" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0  # no export


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize(("query", "name", "day"), FAR_OFF)
def test_the_api_refuses_a_far_off_day_with_a_json_error(
    client, network, token_for, fmt, query, name, day
):
    response = client.get(
        f"/api/v1/reports/completion?format={fmt}&{query}",
        headers=token_for(network.users["netadmin"]),
    )
    assert response.status_code == 422 and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and f"“{day}” {OUT_OF_RANGE}" in error["message"]


def test_the_days_at_both_ends_of_the_range_are_taken_everywhere(
    admin_client, client, network, token_for, runner, tmp_path
):
    query = "since=1900-01-01&until=2999-12-31"
    page = admin_client.get(f"/reports?{query}")
    assert page.status_code == 200 and "sam@example.org" in page.get_data(as_text=True)
    assert 'min="1900-01-01"' in page.get_data(as_text=True)  # the date inputs say so
    for fmt in ("csv", "xlsx", "json"):
        download = admin_client.get(f"/reports/completion.{fmt}?{query}")
        assert download.status_code == 200 and len(download.get_data()) > 0
    body = client.get(
        f"/api/v1/reports/completion?{query}", headers=token_for(network.users["netadmin"])
    ).get_json()
    assert body["total"] == 7
    target = tmp_path / "all.json"
    result = runner.invoke(
        ["report", "completion", "--format", "json", "-o", str(target), "--since", "1900-01-01",
         "--until", "2999-12-31", "--timezone", "Pacific/Kiritimati"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8"))["total"] == 7


def test_the_dashboard_has_no_period_and_ignores_one(admin_client):
    response = admin_client.get("/reports/dashboard?since=0001-01-01&until=9999-12-31")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("args", "day"),
    [
        (["--until", "9999-12-31"], "9999-12-31"),
        (["--since", "0001-01-01", "--timezone", "Asia/Tokyo"], "0001-01-01"),
        (["--since", "1066-10-14"], "1066-10-14"),
    ],
)
def test_the_command_line_refuses_a_far_off_day_in_one_line(runner, network, tmp_path, args, day):
    target = tmp_path / "report.csv"
    result = runner.invoke(["report", "completion", "--format", "csv", "-o", str(target), *args])
    assert result.exit_code == 1
    assert f"“{day}” {OUT_OF_RANGE}" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written, not even a part


ZONES = ["UTC", "Europe/Vilnius", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    since=st.none() | st.dates(),
    until=st.none() | st.dates(),
    zone=st.sampled_from(ZONES),
)
def test_any_day_in_any_zone_is_a_report_or_a_clear_refusal(app, network, since, until, zone):
    """Whatever days are asked for, the report is counted or the filters refused with
    a message about the day: never an error from deep inside."""
    from vle import db

    with app.test_request_context():
        db_session = db.session()
        try:
            filters = services.resolve_filters(
                db_session, services.OPERATOR, since=since, until=until, tz=services.zone(zone)
            )
        except FilterErrors as error:
            assert set(error.errors) <= {"since", "until"}
            for day in (since, until):
                if day is not None and not date(1900, 1, 1) <= day <= date(2999, 12, 31):
                    assert any(day.isoformat() in message for message in error.errors.values())
            return
        services.completion_totals(db_session, filters, services.OPERATOR)
        services.completion_page(db_session, filters, services.OPERATOR)
        start, end = filters.period()
        assert start is None or start.tzinfo is UTC
        assert end is None or end.tzinfo is UTC
