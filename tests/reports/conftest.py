"""A small network to report on.

    NET (Network, top)            OTHER (Other partner, top)
      └─ MUNI (Municipality)        └─ learner: olga
           ├─ SCHOOL: sam, sara
           └─ LIB: lina
         muni staff: mona

Courses: ethics (competencies ETH-1, ETH-2; a quiz), safety. Enrolments at fixed
times in 2025 so that periods can be tested exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.security import generate_password_hash

from vle.accounts import services as accounts
from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, Item
from vle.learning.models import Completion, Enrolment
from vle.quizzes.models import Attempt


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class Network:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """These tests make many accounts; scrypt for each would take seconds. Sign-in
    still checks the (cheaper) hash for real."""
    monkeypatch.setattr(
        accounts,
        "hash_password",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"),
    )


@pytest.fixture
def enrol_at(session):
    """Put an enrolment in place directly, with the times and status a test needs."""

    def make(user, course, enrolled, status="not_started", completed=None, progress=None):
        if progress is None:
            progress = {"not_started": 0, "in_progress": 50, "completed": 100}[status]
        enrolment = Enrolment(
            user_id=user.id,
            course_id=course.id,
            status=status,
            progress=progress,
            enrolled_at=enrolled,
            completed_at=completed,
        )
        session.add(enrolment)
        if completed is not None:
            session.add(Completion(user_id=user.id, course_id=course.id, completed_at=completed))
        session.commit()
        return enrolment

    return make


@pytest.fixture
def network(session, make_org, make_user, make_course, enrol_at) -> Network:
    net = Network()
    o = net.orgs
    o["NET"] = make_org("NET", name="Network")
    o["MUNI"] = make_org("MUNI", parent=o["NET"], name="Municipality")
    o["SCHOOL"] = make_org("SCHOOL", parent=o["MUNI"], name="School")
    o["LIB"] = make_org("LIB", parent=o["MUNI"], name="Library")
    o["OTHER"] = make_org("OTHER", name="Other partner")
    u = net.users
    u["netadmin"] = make_user("admin", o["NET"], "net@example.org", network=True, name="Nora Net")
    u["muniadmin"] = make_user("admin", o["MUNI"], "muni@example.org", name="Mykolas Muni")
    u["schooladmin"] = make_user("admin", o["SCHOOL"], "schooladmin@example.org", name="Saulė")
    u["trainer"] = make_user("trainer", o["NET"], "trainer@example.org", name="Tadas Trainer")
    u["trainer2"] = make_user("trainer", o["NET"], "trainer2@example.org", name="Toma Trainer")
    u["sam"] = make_user("learner", o["SCHOOL"], "sam@example.org", name="Samas Šimkus")
    u["sara"] = make_user("learner", o["SCHOOL"], "sara@example.org", name="Sara Żak")
    u["lina"] = make_user("learner", o["LIB"], "lina@example.org", name="Lina Ąžuolė")
    u["mona"] = make_user("learner", o["MUNI"], "mona@example.org", name="Mona Muni")
    u["olga"] = make_user("learner", o["OTHER"], "olga@example.org", name="Olga Other")
    c = net.courses
    c["ethics"] = make_course(slug="ethics", title="Ethics at work", trainers=[u["trainer"]])
    c["ethics"].competencies = ["ETH-1", "ETH-2"]
    quiz = Item(slug="check", position=9, kind="quiz", title="Check", required=False)
    c["ethics"].modules[0].items.append(quiz)
    c["safety"] = make_course(slug="safety", title="Safety first", trainers=[u["trainer2"]])
    session.commit()

    enrol_at(u["sam"], c["ethics"], at("2025-01-10"), "completed", at("2025-02-15"))
    enrol_at(u["sam"], c["safety"], at("2025-03-01"), "in_progress")
    enrol_at(u["sara"], c["ethics"], at("2025-02-20"), "not_started")
    enrol_at(u["lina"], c["ethics"], at("2025-01-05"), "completed", at("2025-03-31", 23))
    enrol_at(u["mona"], c["safety"], at("2024-12-01"), "completed", at("2025-01-02"))
    enrol_at(u["olga"], c["ethics"], at("2025-02-01"), "in_progress")
    enrol_at(u["olga"], c["safety"], at("2025-04-01"), "not_started")
    for user, number, score, state in (
        ("sam", 1, 55.0, "graded"),
        ("sam", 2, 87.5, "graded"),
        ("sam", 3, None, "open"),
        ("sara", 1, 99.0, "awaiting_grading"),  # not graded yet: does not count
    ):
        session.add(
            Attempt(item_id=quiz.id, user_id=u[user].id, number=number, score=score, state=state)
        )
    session.commit()
    return net


def emails(rows: Any) -> list[str]:
    return [row.email if hasattr(row, "email") else row["email"] for row in rows]
