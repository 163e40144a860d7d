"""/network/monitoring: the figures per month in scope, the filters, the
downloads and who may see them."""

from __future__ import annotations

import csv
import io

from tests.conftest import login


def _rows(client, query):
    response = client.get(f"/network/monitoring/figures.csv?{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_learners_and_trainers_are_refused(client, world):
    login(client, "reader@example.org")
    assert client.get("/network/monitoring").status_code == 403
    assert client.get("/network/monitoring/figures.csv").status_code == 403


def test_a_network_administrator_counts_the_whole_network_per_month(client, world):
    login(client, "net@example.org")
    page = client.get("/network/monitoring?since=2026-01-01&until=2026-07-31")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'role="img"' in text and "Figures as of" in text
    rows = _rows(client, "since=2026-01-01&until=2026-07-31")
    figures = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert figures[("Completions", "2026-04")] == "1"
    assert figures[("Forum posts", "2026-05")] == "2"  # the hidden post is not counted
    assert figures[("Event attendances", "2026-06")] == "3"
    assert figures[("Active learners (enrolled or completed in the month)", "2026-01")] == "1"


def test_a_scoped_administrator_sees_only_their_subtree(client, world):
    login(client, "city@example.org")
    rows = _rows(client, "since=2026-01-01&until=2026-07-31")
    figures = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert figures[("Forum posts", "2026-05")] == "0"  # Gdańsk and Kaunas wrote them
    assert figures[("Completions", "2026-04")] == "1"  # Vilnius's school
    assert client.get("/network/monitoring?organisation=tromso").status_code == 403
    xlsx = client.get("/network/monitoring/figures.xlsx?since=2026-01-01")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_a_period_that_ends_before_it_starts_is_refused_with_a_message(client, world):
    login(client, "net@example.org")
    page = client.get("/network/monitoring?since=2026-06-01&until=2026-01-01")
    assert page.status_code == 200
    assert "The period cannot end before it starts." in page.get_data(as_text=True)
