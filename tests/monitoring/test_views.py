"""The network picture and the indicator panel's pages: the SVG and its text
alternative hold the same pairs, sorting by the address, CSV downloads,
permissions, joint training schemes and freezing a snapshot through the page."""

from __future__ import annotations

import csv
import io
import re
from xml.etree import ElementTree

from sqlalchemy import select

from tests.conftest import login, post_form
from vle.catalog.models import Course
from vle.monitoring.models import IndicatorSnapshot

SVG = re.compile(r"<svg .*?</svg>", re.S)
ROW = re.compile(r'<tr data-a="([^"]+)" data-b="([^"]+)">')
NS = "{http://www.w3.org/2000/svg}"


def _svg(page: str) -> ElementTree.Element:
    return ElementTree.fromstring(SVG.search(page).group(0))  # noqa: S314 - our own page


def test_the_picture_and_its_table_hold_the_same_pairs(client, world):
    login(client, "reader@example.org")
    page = client.get("/network/picture").get_data(as_text=True)
    svg = _svg(page)
    assert svg.get("role") == "img"
    assert svg.find(f"{NS}title").text and svg.find(f"{NS}desc").text
    lines = {(line.get("data-a"), line.get("data-b")) for line in svg.iter(f"{NS}line")
             if line.get("class") == "pair"}  # fmt: skip
    rows = set(ROW.findall(page))
    assert lines == rows == {
        ("vilnius", "tromso"), ("kaunas", "gdansk"), ("vilnius", "kaunas"),
        ("vilnius", "gdansk"), ("tromso", "gdansk"),
    }  # fmt: skip
    # Each edge says in words whom it links, as the table does.
    titles = [line.find(f"{NS}title").text for line in svg.iter(f"{NS}line")
              if line.get("class") == "pair"]  # fmt: skip
    assert any("Vilnius municipality – Tromsø library: Shared course" in t for t in titles)
    # The nodes are grouped by country: the Lithuanian cluster holds Vilnius and Kaunas.
    clusters = {g.get("data-country"): g for g in svg.iter(f"{NS}g") if g.get("data-country")}
    assert set(clusters) >= {"LT", "NO", "PL"}
    assert "<script" not in SVG.search(page).group(0)


def test_the_pairs_table_sorts_by_the_address(client, world):
    login(client, "reader@example.org")
    page = client.get("/network/picture?sort=-since").get_data(as_text=True)
    assert ROW.findall(page)[0] == ("tromso", "gdansk")  # the latest pair first (1 July)
    assert 'aria-sort="descending"' in page
    page = client.get("/network/picture?sort=since").get_data(as_text=True)
    assert ROW.findall(page)[0] == ("vilnius", "tromso")
    assert client.get("/network/picture?sort=nonsense").status_code == 200


def test_the_pairs_download_as_csv(client, world):
    login(client, "reader@example.org")
    response = client.get("/network/picture/pairs.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Organisation" and len(rows) == 6
    assert ["Kaunas library", "LT", "Gdańsk college", "PL"] == rows[2][:4] or any(
        r[:4] == ["Kaunas library", "LT", "Gdańsk college", "PL"] for r in rows
    )


def test_only_network_administrators_open_the_indicators(client, world):
    assert client.get("/network/picture").status_code in (302, 401)
    login(client, "reader@example.org")
    assert client.get("/network/monitoring/indicators").status_code == 403
    assert client.get("/network/monitoring/indicators/RCO81.csv").status_code == 403
    client.post("/logout")
    login(client, "city@example.org")
    assert client.get("/network/monitoring/indicators").status_code == 403


def test_a_network_administrator_sets_joint_training_and_freezes_a_snapshot(client, session, world):
    login(client, "net@example.org")
    page = client.get("/network/monitoring/indicators?date=2026-11-30").get_data(as_text=True)
    assert re.search(r'data-code="RCO85">\s*<th[^>]*>[^<]*</th>\s*<td class="figure">0<', page)
    response = post_form(client, "/network/monitoring/indicators/joint-training",
                         {"course": [str(world.course.id)]}, "/network/monitoring/indicators")  # fmt: skip
    assert response.status_code == 302
    assert session.scalar(select(Course.joint_training).where(Course.id == world.course.id))
    page = client.get("/network/monitoring/indicators?date=2026-11-30").get_data(as_text=True)
    assert re.search(r'data-code="RCO85">\s*<th[^>]*>[^<]*</th>\s*<td class="figure">2<', page)
    evidence = client.get("/network/monitoring/indicators/RCR81.csv?date=2026-11-30")
    text = evidence.get_data(as_text=True)
    assert "Pupil" in text and "Joint course" in text and "Ola" not in text
    response = post_form(client, "/network/monitoring/indicators/freeze",
                         {"reporting_date": "2026-06-30"}, "/network/monitoring/indicators")  # fmt: skip
    session.rollback()  # a new read: the page's write is seen
    snapshot = session.scalars(select(IndicatorSnapshot)).one()
    assert response.headers["Location"].endswith(f"/network/monitoring/snapshots/{snapshot.id}")
    page = client.get(f"/network/monitoring/snapshots/{snapshot.id}").get_data(as_text=True)
    assert "Each enrolment" in page
    # Frozen by an English reader, read by a Lithuanian: the rules in Lithuanian.
    in_lithuanian = client.get(
        f"/network/monitoring/snapshots/{snapshot.id}", headers={"Accept-Language": "lt"}
    ).get_data(as_text=True)
    assert "Kiekviena ne vėliau kaip ataskaitinę dieną atlikta registracija" in in_lithuanian
    csv_text = client.get(f"/network/monitoring/snapshots/{snapshot.id}/RCO81.csv").get_data(
        as_text=True
    )
    assert "Mr Guest" in csv_text
    # The same date again: refused with a message, nothing stored.
    response = post_form(client, "/network/monitoring/indicators/freeze",
                         {"reporting_date": "2026-06-30"}, "/network/monitoring/indicators")  # fmt: skip
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already frozen" in page
    session.rollback()
    assert len(session.scalars(select(IndicatorSnapshot)).all()) == 1
    assert client.get("/network/monitoring/snapshots/999").status_code == 404
    assert client.get("/network/monitoring/indicators/RCO99.csv").status_code == 404
