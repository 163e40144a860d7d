"""The monitoring figures and the pairs counted ahead (issue 19: the whole network
under 1 s, "with the time of the figures shown"): the pages show when they were
counted, what they show is what a fresh count gives, the worker's refresh
recounts what is stale and leaves what is fresh, and months are the reader's."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from tests.conftest import login
from vle.accounts.models import User
from vle.db import utcnow
from vle.learning.models import Enrolment
from vle.monitoring import figures, precomputed
from vle.monitoring.models import MonitoringFigures

PERIOD = "since=2026-01-01&until=2026-07-31"
COMPLETIONS = "Completions"
AS_OF = re.compile(r"Figures as of ([^<]+)\.</strong>")


def _csv(client, query=PERIOD):
    response = client.get(f"/network/monitoring/figures.csv?{query}")
    assert response.status_code == 200
    rows = csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    return {(r[0], r[1]): int(r[2]) for r in list(rows)[1:]}


def _rows(session):
    session.rollback()  # a new read: what the pages wrote is seen
    session.expire_all()
    return {row.key: row for row in session.scalars(select(MonitoringFigures))}


def _complete(session, world, when):
    session.add(Enrolment(user_id=world.reader.id, course_id=world.other.id, enrolled_at=when,
                          status="completed", progress=100, completed_at=when))  # fmt: skip
    session.commit()


def _age(session, hours=0, minutes=0):
    """Make every stored figure older, as time passing would."""
    gone = timedelta(hours=hours, minutes=minutes)
    for row in session.scalars(select(MonitoringFigures)):
        row.computed_at -= gone
    session.commit()


def test_the_page_says_as_of_when_in_the_readers_time_zone(client, session, world):
    session.get(User, world.network_admin.id).timezone = "America/New_York"
    session.commit()
    login(client, "net@example.org")
    client.get(f"/network/monitoring?{PERIOD}")
    counted = utcnow() - timedelta(minutes=30)
    session.execute(update(MonitoringFigures).values(computed_at=counted))
    session.commit()
    text = client.get(f"/network/monitoring?{PERIOD}").get_data(as_text=True)
    shown = AS_OF.search(text).group(1)
    local = counted.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M}" in shown and str(local.year) in shown
    assert "your time zone (America/New_York)" in text
    picture = client.get("/network/picture").get_data(as_text=True)
    assert AS_OF.search(picture)


def test_the_page_and_downloads_show_the_stored_figures_as_a_fresh_count_gives_them(
    client, session, world
):
    login(client, "net@example.org")
    before = _csv(client)
    # Counted once and stored, under the filters and the reader's zone.
    assert {k.split(" ")[0] for k in _rows(session)} == {"figures"}
    asked = figures.Asked("", "", date(2026, 1, 1), date(2026, 7, 31), "Europe/Vilnius")
    filters, _why = figures.resolve(session, asked, date(2026, 12, 7))
    fresh = {s.key: s.months for s in figures.monitoring(session, filters)}
    stored = _rows(session)[asked.key].result
    assert {k: [tuple(m) for m in v] for k, v in stored["series"].items()} == fresh
    assert before[(COMPLETIONS, "2026-04")] == 1
    # A new completion: the page keeps showing the figures as counted (and says when) …
    _complete(session, world, datetime(2026, 4, 10, tzinfo=UTC))
    assert _csv(client)[(COMPLETIONS, "2026-04")] == 1
    page = client.get(f"/network/monitoring?{PERIOD}").get_data(as_text=True)
    assert re.search(r"<th scope=\"row\">April 2026</th><td>1</td>", page)
    # … and a count older than an hour (no worker running) is counted again on the spot.
    _age(session, hours=2)
    assert _csv(client)[(COMPLETIONS, "2026-04")] == 2


def test_the_refresh_task_recounts_the_stale_figures_and_leaves_the_fresh(client, session, world):
    login(client, "net@example.org")
    client.get(f"/network/monitoring?{PERIOD}")
    client.get("/network/picture")
    _complete(session, world, datetime(2026, 4, 10, tzinfo=UTC))
    # Counted a minute ago: fresh, the task leaves it (and counts the site's defaults).
    first = _rows(session)
    assert precomputed.refresh_figures.call_local() == 1  # the whole network's default
    assert _csv(client)[(COMPLETIONS, "2026-04")] == 1
    rows = _rows(session)
    assert {k: r.computed_at for k, r in rows.items() if k in first} == {
        k: r.computed_at for k, r in first.items()
    }
    assert figures.Asked("", "", None, None, "Europe/Vilnius").key in rows
    # Five minutes on: everything is stale and recounted, the new completion with it.
    _age(session, minutes=5)
    assert precomputed.refresh_figures.call_local() == len(rows)
    assert _csv(client)[(COMPLETIONS, "2026-04")] == 2
    ages = {k: utcnow() - r.computed_at for k, r in _rows(session).items()}
    assert all(age < timedelta(minutes=1) for age in ages.values()), ages


def test_the_refresh_forgets_what_no_page_has_read_for_a_week(session, world, app):
    with app.test_request_context():
        precomputed.refresh()
    assert len(_rows(session)) == 2  # the whole network's figures and pairs
    session.execute(update(MonitoringFigures).values(read_at=utcnow() - timedelta(days=8)))
    session.execute(update(MonitoringFigures).values(computed_at=utcnow() - timedelta(days=8)))
    session.commit()
    with app.test_request_context():
        precomputed.refresh()
    rows = _rows(session)
    # Dropped, then the defaults counted afresh.
    assert len(rows) == 2
    assert all(utcnow() - r.read_at < timedelta(minutes=1) for r in rows.values())


def test_months_are_the_readers_a_completion_late_on_31_march_utc_is_aprils_in_vilnius(
    client, session, world
):
    _complete(session, world, datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    session.get(User, world.network_admin.id).timezone = "Europe/Vilnius"
    session.commit()
    login(client, "net@example.org")
    vilnius = _csv(client)
    assert vilnius[(COMPLETIONS, "2026-03")] == 0
    assert vilnius[(COMPLETIONS, "2026-04")] == 2
    session.get(User, world.network_admin.id).timezone = "UTC"
    session.commit()
    utc = _csv(client)
    assert utc[(COMPLETIONS, "2026-03")] == 1
    assert utc[(COMPLETIONS, "2026-04")] == 1


def test_vle_monitoring_refresh_counts_everything_afresh_now(client, session, world, runner):
    login(client, "net@example.org")
    assert _csv(client)[(COMPLETIONS, "2026-04")] == 1
    _complete(session, world, datetime(2026, 4, 10, tzinfo=UTC))
    result = runner.invoke(["monitoring", "refresh"])
    assert result.exit_code == 0, result.output
    assert "counted 3 sets of figures" in result.output  # the page's, and the defaults
    assert _csv(client)[(COMPLETIONS, "2026-04")] == 2
