"""The dashboard's months are the reader's months: counted from local midnight on
the first, as every other date vle shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import csrf_token, login
from vle.reports import services


def test_a_completion_late_on_the_last_day_counts_in_the_readers_month(session, network):
    # lina completed on 31 March 2025 at 23:00 UTC: 1 April, 02:00 in Vilnius.
    scope = services.scope_for(network.users["netadmin"])
    now = datetime(2025, 4, 15, tzinfo=UTC)
    utc = services.dashboard(session, scope, now=now, tz=UTC)
    vilnius = services.dashboard(session, scope, now=now, tz=ZoneInfo("Europe/Vilnius"))
    by_utc = {(m.year, m.month): m.completions for m in utc.by_month}
    by_vilnius = {(m.year, m.month): m.completions for m in vilnius.by_month}
    assert by_utc[(2025, 3)] == 1 and by_utc[(2025, 4)] == 0
    assert by_vilnius[(2025, 3)] == 0 and by_vilnius[(2025, 4)] == 1
    assert sum(by_utc.values()) == sum(by_vilnius.values()) == 3
    assert list(by_vilnius)[-1] == (2025, 4) and len(by_vilnius) == 12


def test_the_months_start_at_the_readers_new_year(session, network):
    # 31 December 2024, 23:30 UTC is already January in Vilnius: the twelve months
    # end with January 2025 there.
    scope = services.scope_for(network.users["netadmin"])
    now = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
    months = services.dashboard(session, scope, now=now, tz=ZoneInfo("Europe/Vilnius")).by_month
    assert (months[-1].year, months[-1].month) == (2025, 1)
    assert (months[0].year, months[0].month) == (2024, 2)


def test_the_dashboard_page_counts_in_the_users_time_zone(client, session, network, enrol_at):
    # A completion at 23:00 UTC on the last day of last month: in Vilnius it is
    # already this month. The page's table counts it in the reader's month and
    # names the months in words.
    first = datetime.now(UTC).date().replace(day=1)
    late = datetime.combine(first - timedelta(days=1), time(23), tzinfo=UTC)
    enrol_at(network.users["sara"], network.courses["safety"], late, "completed", late)
    admin = network.users["netadmin"]
    for zone, counted_in in (("UTC", late), ("Europe/Vilnius", first)):
        admin.timezone = zone
        session.commit()
        assert login(client, admin.email).status_code == 302
        html = client.get("/reports/dashboard").get_data(as_text=True)
        assert f"(months in {zone})" in html
        table = html[html.index('id="by-month-table"') :]
        rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="number">(\d+)</td>', table))
        assert rows[counted_in.strftime("%B %Y")] == "1", (zone, rows)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/my")})
