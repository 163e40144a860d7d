"""The completion report's rules: scope, filters, period, totals, sort, pages, scores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.reports.conftest import emails
from vle.errors import Forbidden
from vle.reports import services, writers
from vle.reports.services import OPERATOR, FilterErrors, OutOfScope


def rows(session, scope=OPERATOR, sort=services.DEFAULT_SORT, **filters):
    resolved = services.resolve_filters(session, scope, **filters)
    return list(services.iter_completion_rows(session, resolved, scope, sort))


def test_one_row_per_enrolment_with_every_column(session, network):
    found = rows(session, sort="learner")
    assert len(found) == 7
    sam_ethics = next(r for r in found if r.email == "sam@example.org" and r.course == "ethics")
    assert sam_ethics.learner_name == "Samas Šimkus"
    assert (sam_ethics.organisation_code, sam_ethics.organisation_name) == ("SCHOOL", "School")
    assert sam_ethics.course_title == "Ethics at work"
    assert sam_ethics.status == "completed" and sam_ethics.progress == 100
    assert sam_ethics.enrolled_at == datetime(2025, 1, 10, 12, tzinfo=UTC)
    assert sam_ethics.completed_at == datetime(2025, 2, 15, 12, tzinfo=UTC)
    # Best graded attempt; open attempts and ungraded ones do not count.
    assert sam_ethics.best_score == 87.5
    assert sam_ethics.competencies == ["ETH-1", "ETH-2"]
    sara = next(r for r in found if r.email == "sara@example.org")
    assert sara.best_score is None and sara.competencies == []  # not completed: none achieved
    olga = next(r for r in found if r.email == "olga@example.org" and r.course == "ethics")
    assert olga.competencies == [] and olga.status == "in_progress"


def test_scope_of_each_kind_of_reader(session, network):
    u = network.users
    assert services.scope_for(u["netadmin"]).is_everything
    muni = services.scope_for(u["muniadmin"])
    assert muni.organisation_path == network.orgs["MUNI"].path
    assert services.scope_for(u["trainer"]).trainer_id == u["trainer"].id
    with pytest.raises(Forbidden):
        services.scope_for(u["sam"])


def test_scoped_admin_sees_only_its_subtree(session, network):
    scope = services.scope_for(network.users["muniadmin"])
    assert sorted(set(emails(rows(session, scope)))) == [
        "lina@example.org", "mona@example.org", "sam@example.org", "sara@example.org",
    ]  # fmt: skip
    school = services.scope_for(network.users["schooladmin"])
    assert set(emails(rows(session, school))) == {"sam@example.org", "sara@example.org"}


def test_organisation_filter_is_the_subtree(session, network):
    assert set(emails(rows(session, organisation="MUNI"))) == {
        "sam@example.org", "sara@example.org", "lina@example.org", "mona@example.org",
    }  # fmt: skip
    assert set(emails(rows(session, organisation="LIB"))) == {"lina@example.org"}


def test_scoped_admin_cannot_name_an_organisation_outside_its_scope(session, network):
    school = services.scope_for(network.users["schooladmin"])
    with pytest.raises(OutOfScope) as raised:
        services.resolve_filters(session, school, organisation="MUNI")
    assert raised.value.field == "organisation" and raised.value.status == 403
    with pytest.raises(OutOfScope):
        services.resolve_filters(session, school, organisation="OTHER")
    # Inside the scope is fine, and so is the top of the scope.
    services.resolve_filters(session, school, organisation="SCHOOL")


def test_trainer_sees_the_learners_of_the_courses_they_train_only(session, network):
    scope = services.scope_for(network.users["trainer"])
    found = rows(session, scope)
    assert {r.course for r in found} == {"ethics"}
    # Every learner of the course, whatever their organisation.
    assert set(emails(found)) == {
        "sam@example.org", "sara@example.org", "lina@example.org", "olga@example.org",
    }  # fmt: skip
    with pytest.raises(OutOfScope) as raised:
        services.resolve_filters(session, scope, course="safety")
    assert raised.value.field == "course"
    assert [c.slug for c in services.courses_in_scope(session, scope)] == ["ethics"]


def test_course_and_status_filters(session, network):
    assert set(emails(rows(session, course="safety"))) == {
        "sam@example.org", "mona@example.org", "olga@example.org",
    }  # fmt: skip
    done = rows(session, status="completed")
    assert {(r.email, r.course) for r in done} == {
        ("sam@example.org", "ethics"), ("lina@example.org", "ethics"),
        ("mona@example.org", "safety"),
    }  # fmt: skip


def test_period_holds_enrolments_enrolled_or_completed_in_it(session, network):
    # February 2025: sara and olga enrolled; sam completed (enrolled in January).
    february = rows(session, since="2025-02-01", until="2025-02-28")
    assert {(r.email, r.course) for r in february} == {
        ("sara@example.org", "ethics"), ("olga@example.org", "ethics"),
        ("sam@example.org", "ethics"),
    }  # fmt: skip
    # Open-ended periods.
    assert {r.email for r in rows(session, since="2025-04-01")} == {"olga@example.org"}
    assert {r.email for r in rows(session, until="2024-12-31")} == {"mona@example.org"}


def test_period_days_are_whole_days_in_the_readers_time_zone(session, network):
    # lina completed at 2025-03-31 23:00 UTC: 1 April in Vilnius (UTC+3 in summer time).
    utc = rows(session, since="2025-03-31", until="2025-03-31", status="completed")
    assert emails(utc) == ["lina@example.org"]
    vilnius = services.resolve_filters(
        session, OPERATOR, since="2025-04-01", until="2025-04-01", status="completed",
        tz=ZoneInfo("Europe/Vilnius"),
    )  # fmt: skip
    found = list(services.iter_completion_rows(session, vilnius, OPERATOR))
    assert emails(found) == ["lina@example.org"]


def test_bad_filters_are_reported_all_at_once(session, network):
    with pytest.raises(FilterErrors) as raised:
        services.resolve_filters(
            session, OPERATOR, organisation="NOPE", course="nope", since="2025-02-30",
            until="yesterday", status="done",
        )  # fmt: skip
    errors = raised.value.errors
    assert set(errors) == {"organisation", "course", "since", "until", "status"}
    assert "NOPE" in errors["organisation"] and "nope" in errors["course"]
    assert "YYYY-MM-DD" in errors["since"]
    assert raised.value.status == 422


def test_dates_out_of_order(session, network):
    with pytest.raises(FilterErrors) as raised:
        services.resolve_filters(session, OPERATOR, since="2025-03-01", until="2025-02-01")
    assert raised.value.errors == {"until": "The end of the period is before its start."}
    # The same day at both ends is a one-day period, not an error.
    services.resolve_filters(session, OPERATOR, since="2025-03-01", until="2025-03-01")


def test_totals_count_the_filtered_rows(session, network):
    filters = services.resolve_filters(session, OPERATOR)
    totals = services.completion_totals(session, filters, OPERATOR)
    assert (totals.enrolled, totals.not_started, totals.in_progress, totals.completed) == (
        7, 2, 2, 3,
    )  # fmt: skip
    assert totals.completion_rate == pytest.approx(3 / 7)
    muni = services.scope_for(network.users["muniadmin"])
    totals = services.completion_totals(session, services.resolve_filters(session, muni), muni)
    assert (totals.enrolled, totals.completed) == (5, 3)
    assert services.Totals().completion_rate == 0.0  # nobody enrolled: no division by zero


def test_sorting(session, network):
    by_learner = [r.learner_name for r in rows(session, sort="learner")]
    assert by_learner == sorted(by_learner)
    newest_first = [r.enrolled_at for r in rows(session)]
    assert newest_first == sorted(newest_first, reverse=True)
    completed = [r.completed_at for r in rows(session, sort="-completed")]
    # Most recent completion first; not completed at the end, on every database.
    assert completed[:3] == sorted(completed[:3], reverse=True) and completed[3:] == [None] * 4
    statuses = [r.status for r in rows(session, sort="status")]
    assert statuses == ["not_started"] * 2 + ["in_progress"] * 2 + ["completed"] * 3
    assert services.parse_sort("nonsense") == services.DEFAULT_SORT
    assert services.parse_sort("-course") == "-course"


def test_pages_cover_every_row_once_in_the_export_order(session, network, make_user, enrol_at):
    for n in range(25):
        learner = make_user("learner", network.orgs["LIB"], f"extra{n:02d}@example.org")
        enrol_at(learner, network.courses["safety"], datetime(2025, 1, 1, 8, n, tzinfo=UTC))
    filters = services.resolve_filters(session, OPERATOR)
    for sort in ("course", "-enrolled", "status"):
        everything = list(services.iter_completion_rows(session, filters, OPERATOR, sort))
        first = services.completion_page(session, filters, OPERATOR, sort, 1, 25)
        second = services.completion_page(session, filters, OPERATOR, sort, 2, 25)
        assert first.pages == 2 and len(first.rows) == 25 and len(second.rows) == 7
        assert first.rows + second.rows == everything
        assert (second.first, second.last) == (26, 32)
    beyond = services.completion_page(session, filters, OPERATOR, "course", 99, 25)
    assert beyond.page == 2  # beyond the last page: the last page


def test_dashboard_rates_and_months(session, network):
    scope = services.scope_for(network.users["netadmin"])
    now = datetime(2025, 4, 15, tzinfo=UTC)
    data = services.dashboard(session, scope, now=now)
    by_org = {r.code: (r.enrolled, r.completed) for r in data.by_organisation}
    assert by_org == {"NET": (5, 3), "OTHER": (2, 0)}
    assert (data.total.enrolled, data.total.completed) == (7, 3)
    by_course = {r.code: (r.enrolled, r.completed) for r in data.by_course}
    assert by_course == {"ethics": (4, 2), "safety": (3, 1)}
    months = {(m.year, m.month): m.completions for m in data.by_month}
    assert len(months) == 12 and list(months)[-1] == (2025, 4)
    assert months[(2025, 1)] == 1 and months[(2025, 2)] == 1 and months[(2025, 3)] == 1
    # Drill down: the municipality's children, and its own staff on their own line.
    muni = services.dashboard(session, scope, network.orgs["MUNI"], now=now)
    rows_ = [(r.code, r.enrolled, r.completed, r.own_members_only) for r in muni.by_organisation]
    assert rows_ == [("MUNI", 1, 1, True), ("LIB", 1, 1, False), ("SCHOOL", 3, 1, False)]


def test_dashboard_of_a_scoped_admin_starts_at_its_organisation(session, network):
    scope = services.scope_for(network.users["schooladmin"])
    data = services.dashboard(session, scope, now=datetime(2025, 4, 15, tzinfo=UTC))
    assert data.root.code == "SCHOOL"
    assert (data.total.enrolled, data.total.completed) == (3, 1)
    assert {r.code for r in data.by_course} == {"ethics", "safety"}
    assert sum(m.completions for m in data.by_month) == 1  # sam's; not lina's or mona's


def test_json_row_has_the_fixed_keys_and_utc_times(session, network):
    row = next(r for r in rows(session) if r.email == "lina@example.org")
    body = services.json_row(row)
    assert tuple(body) == services.JSON_KEYS
    assert body["enrolled_at"] == "2025-01-05T12:00:00Z"
    assert body["completed_at"] == "2025-03-31T23:00:00Z"
    # What she is proficient in among the course's competencies, not every one it links.
    assert body["status"] == "completed" and body["competencies"] == ["ETH-1"]


# --- properties --------------------------------------------------------------------------

ORG_CODES = st.sampled_from([None, "NET", "MUNI", "SCHOOL", "LIB", "OTHER"])
DAYS = st.one_of(st.none(), st.dates(min_value=date(2024, 11, 1), max_value=date(2025, 5, 1)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reader=st.sampled_from(["netadmin", "muniadmin", "schooladmin", "trainer", "trainer2"]),
    organisation=ORG_CODES,
    course=st.sampled_from([None, "ethics", "safety"]),
    since=DAYS,
    until=DAYS,
    status=st.sampled_from([None, *services.STATUSES]),
    sort=st.sampled_from(sorted(services.SORT_COLUMNS) + ["-" + k for k in services.SORT_COLUMNS]),
)
def test_filtered_rows_are_a_subset_inside_the_scope(
    session, network, reader, organisation, course, since, until, status, sort
):
    if since and until and until < since:
        since, until = until, since
    scope = services.scope_for(network.users[reader])
    try:
        filters = services.resolve_filters(
            session, scope, organisation=organisation, course=course, since=since,
            until=until, status=status,
        )  # fmt: skip
    except OutOfScope:
        return
    everything = rows(session, scope)
    found = list(services.iter_completion_rows(session, filters, scope, sort))
    keys = [(r.email, r.course) for r in found]
    assert len(keys) == len(set(keys))  # never a row twice
    assert set(keys) <= {(r.email, r.course) for r in everything}
    totals = services.completion_totals(session, filters, scope)
    assert totals.enrolled == len(found)
    orgs = {o.code: o for o in network.orgs.values()}
    for row in found:
        path = orgs[row.organisation_code].path
        if scope.organisation_path:
            assert path.startswith(scope.organisation_path)  # never outside the scope
        if organisation:
            assert path.startswith(orgs[organisation].path)
        if scope.trainer_id:
            assert row.course == ("ethics" if reader == "trainer" else "safety")
        if course:
            assert row.course == course
        if status:
            assert row.status == status
        start, end = filters.period()
        if start or end:
            moments = [m for m in (row.enrolled_at, row.completed_at) if m is not None]
            assert any((not start or m >= start) and (not end or m < end) for m in moments)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Vilnius", "America/St_Johns"])
def test_csv_export_is_the_report_rows_written_cell_by_cell(session, network, zone):
    # The CSV export makes its cells its own quicker way (organisations and courses
    # looked up, times as text from the database); byte for byte, it must be what the
    # general CSV writer makes of the rows the page shows — formula-like text in every
    # column that can hold text included.
    network.users["sam"].name = "=HYPERLINK(1)"
    network.users["sara"].email = "  -sara@example.org"
    network.orgs["SCHOOL"].name = "+School"
    network.orgs["LIB"].code = "@LIB"
    network.courses["ethics"].title = "-Ethics"
    network.competencies["ETH-1"].code = "=ETH-1"
    network.courses["safety"].slug = "\tsafety"
    session.commit()
    tz = services.zone(zone)
    filters = services.resolve_filters(session, OPERATOR)
    headers = services.spreadsheet_headers(tz)
    for sort in [*services.SORT_COLUMNS, *("-" + key for key in services.SORT_COLUMNS)]:
        rows = services.iter_completion_rows(session, filters, OPERATOR, sort)
        expected = b"".join(
            writers.csv_chunks(headers, services.spreadsheet_rows(rows, tz, text_times=True))
        )
        exported = b"".join(services.export_chunks("csv", lambda: session, filters, OPERATOR,
                                                   sort, tz))  # fmt: skip
        assert exported == expected, sort
    assert b"'=HYPERLINK(1)" in exported and b"'  -sara@" in exported
    assert b"'+School" in exported and b"'@LIB" in exported and b"'-Ethics" in exported
    assert b"'=ETH-1, ETH-2" in exported and b"'\tsafety" in exported


ZONES = st.sampled_from(
    ["UTC", "Europe/Vilnius", "Europe/Oslo", "America/New_York", "Asia/Kolkata",
     "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham"]
)  # fmt: skip
# Changes of offset (UTC): Europe, New York, Lord Howe (half an hour), Chatham.
CHANGES = [datetime(2025, 3, 30, 1), datetime(2025, 10, 26, 1), datetime(2025, 3, 9, 7),
           datetime(2025, 11, 2, 6), datetime(2025, 4, 5, 15), datetime(2025, 10, 4, 15, 30),
           datetime(2025, 4, 5, 14), datetime(2025, 9, 27, 14)]  # fmt: skip
MOMENTS = st.one_of(
    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2100, 1, 1)),
    st.builds(
        lambda change, seconds: change + timedelta(seconds=seconds),
        st.sampled_from(CHANGES),
        st.integers(-3 * 3600, 3 * 3600),
    ),
)


@settings(max_examples=500, deadline=None)
@given(zone_name=ZONES, moment=MOMENTS)
@example(zone_name="Europe/Vilnius", moment=datetime(2025, 3, 30, 0, 59, 59))
@example(zone_name="Europe/Vilnius", moment=datetime(2025, 3, 30, 1, 0, 0))
@example(zone_name="Australia/Lord_Howe", moment=datetime(2025, 4, 5, 15, 15))
def test_times_in_the_readers_zone_an_hour_at_a_time_are_exact(zone_name, moment):
    # The CSV export moves UTC text times into the reader's zone once per UTC hour;
    # every value must read as the exact conversion does, across changes of offset,
    # in zones a half or three quarters of an hour off, and in the zones' early days.
    tz = services.zone(zone_name)
    text = moment.isoformat(" ", "seconds")
    exact = moment.replace(tzinfo=UTC).astimezone(tz).isoformat(" ", "seconds")[:19]
    local = services._local_text(tz)
    if local is None:
        assert text == exact
        return
    for neighbour in (moment - timedelta(hours=1), moment + timedelta(minutes=59)):
        local(neighbour.isoformat(" ", "seconds"))  # what it learns from the hours around
    assert local(text) == exact
    assert local(text) == exact  # the second time, from what it learnt the first
