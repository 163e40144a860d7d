"""Cooperating pairs per source, the indicators' counting rules on a small
world (exact numbers), and a frozen snapshot that later data does not change."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from vle.accounts.models import User
from vle.audit import AuditEntry
from vle.catalog.models import Course
from vle.errors import Conflict, Forbidden, Invalid
from vle.learning.models import Enrolment
from vle.monitoring import cooperation, indicators

TODAY = date(2026, 12, 1)


def _pairs(session, until=None):
    return {
        (p.org_a.code, p.org_b.code): p.links for p in cooperation.cooperating_pairs(session, until)
    }


def test_pairs_come_from_each_source_grouped_up_to_the_partner(session, world):
    assert _pairs(session) == {
        # The school's pupil counts for Vilnius municipality, its partner.
        ("vilnius", "tromso"): {"course": date(2026, 3, 1)},
        ("kaunas", "gdansk"): {"forum": date(2026, 5, 3)},
        ("vilnius", "kaunas"): {"event": date(2026, 6, 2)},
        ("vilnius", "gdansk"): {"event": date(2026, 6, 1)},
        ("tromso", "gdansk"): {"event": date(2026, 7, 1)},
    }


def test_pairs_as_they_stood_at_a_date(session, world):
    assert set(_pairs(session, date(2026, 5, 31))) == {("vilnius", "tromso"), ("kaunas", "gdansk")}


def test_the_indicators_count_by_their_rules(session, world):
    session.get(Course, world.course.id).joint_training = True
    session.commit()
    figures = {i.code: i.value for i in indicators.panel(session, TODAY)}
    # RCO81: two attendances of the joint action of Lithuania and Poland; the one-country
    # joint action and the unflagged event do not count.
    # RCO85: two enrolments in the joint course; RCR81: one completion.
    # RCO87: Vilnius, Tromsø, Gdańsk, Kaunas — every partner in a pair across borders
    # (Vilnius–Kaunas is within Lithuania, but Kaunas also pairs with Gdańsk).
    assert figures == {"RCO81": 2, "RCO85": 2, "RCR81": 1, "RCO87": 4}
    rco81 = indicators.evidence(session, "RCO81", TODAY)
    assert [(r["participant"], r["organisation"], r["countries"]) for r in rco81] == [
        ("Pupil", "Vilnius school", "LT PL"),
        ("Mr Guest", "Gdańsk college", "LT PL"),
    ]


def test_a_frozen_snapshot_does_not_change_with_later_data(session, world):
    session.get(Course, world.course.id).joint_training = True
    session.commit()
    actor = session.get(User, world.network_admin.id)
    snapshot = indicators.freeze(session, actor, date(2026, 6, 30), TODAY, "192.0.2.1")
    session.commit()
    assert snapshot.figures == {"RCO81": 2, "RCO85": 2, "RCR81": 1, "RCO87": 4}
    session.add(Enrolment(user_id=world.anna.id, course_id=world.course.id,
                          enrolled_at=datetime(2026, 6, 10, tzinfo=UTC)))  # fmt: skip
    session.commit()
    assert indicators.panel(session, date(2026, 6, 30))[1].value == 3
    again = indicators.get_snapshot(session, snapshot.id)
    assert again.figures["RCO85"] == 2
    assert len(indicators.snapshot_evidence(session, again, "RCO85")) == 2
    assert "enrolment" in indicators.snapshot_rule(again, "RCO85", "en")
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "indicators.freeze")
    ).one()
    assert entry.target_id == snapshot.id
    with pytest.raises(Conflict):
        indicators.freeze(session, actor, date(2026, 6, 30), TODAY, None)
    with pytest.raises(Invalid):
        indicators.freeze(session, actor, date(2027, 1, 1), TODAY, None)


def test_only_network_administrators_set_joint_training(session, world):
    course = session.get(Course, world.other.id)
    with pytest.raises(Forbidden):
        indicators.set_joint_training(session, session.get(User, world.city_admin.id), course,
                                      True, None)  # fmt: skip
    indicators.set_joint_training(session, session.get(User, world.network_admin.id), course,
                                  True, None)  # fmt: skip
    session.commit()
    assert session.get(Course, world.other.id).joint_training
