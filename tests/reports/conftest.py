"""A small network to report on.

    NET (Network, top)            OTHER (Other partner, top)
      └─ MUNI (Municipality)        └─ learner: olga
           ├─ SCHOOL: sam, sara
           └─ LIB: lina
         muni staff: mona

Courses: ethics (competencies ETH-1, ETH-2; a quiz), safety. Enrolments at fixed
times in 2025 so that periods can be tested exactly.

Competencies: framework ETH (ETH-1 linked to the ethics course, ETH-2 to its quiz),
SAFE (SAF-1 linked to safety), OTH (OTH-1, linked to no course). Ratings:
    sam   ETH-1 competent, ETH-2 proficient (2025-02-15), SAF-1 not_yet (2025-03-05),
          OTH-1 competent (2025-01-01)
    lina  ETH-1 competent (2025-03-31 23:00 UTC: 1 April in Vilnius)
    olga  ETH-1 evidence without a rating
    mona  SAF-1 proficient (2025-01-02)
    sara  ETH-1 a self-assessment only (no row in the competency report)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, Item
from vle.competencies.models import (
    Competency,
    CompetencyLink,
    Framework,
    UserCompetency,
)
from vle.learning.models import Completion, Enrolment
from vle.quizzes.models import Attempt


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@dataclass
class Network:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)
    competencies: dict[str, Competency] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)


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
    _competencies(session, net, quiz)
    return net


SCALE = ["not_yet", "competent", "proficient"]


def _competencies(session, net: Network, quiz: Item) -> None:
    f, k = net.frameworks, net.competencies
    for code, title in (("ETH", "Ethics"), ("SAFE", "Safety"), ("OTH", "Other skills")):
        f[code] = Framework(code=code, title=title, scale=SCALE, proficient=SCALE[1:],
                            default_value="competent")  # fmt: skip
        session.add(f[code])
    session.flush()
    for position, (code, framework, title) in enumerate(
        (("ETH-1", "ETH", "Integrity"), ("ETH-2", "ETH", "Conflicts of interest"),
         ("SAF-1", "SAFE", "Fire safety"), ("OTH-1", "OTH", "Negotiation"))
    ):  # fmt: skip
        k[code] = Competency(framework_id=f[framework].id, code=code, title=title,
                             position=position)  # fmt: skip
        session.add(k[code])
    session.flush()
    c = net.courses
    session.add_all([
        CompetencyLink(course_id=c["ethics"].id, competency_id=k["ETH-1"].id),
        CompetencyLink(course_id=c["ethics"].id, item_id=quiz.id, competency_id=k["ETH-2"].id),
        CompetencyLink(course_id=c["safety"].id, competency_id=k["SAF-1"].id),
    ])  # fmt: skip
    u = net.users
    for user, code, rating, when in (
        ("sam", "ETH-1", "competent", at("2025-02-15")),
        ("sam", "ETH-2", "proficient", at("2025-02-15")),
        ("sam", "SAF-1", "not_yet", at("2025-03-05")),
        ("sam", "OTH-1", "competent", at("2025-01-01")),
        ("lina", "ETH-1", "competent", at("2025-03-31", 23)),
        ("olga", "ETH-1", None, None),
        ("mona", "SAF-1", "proficient", at("2025-01-02")),
    ):
        session.add(
            UserCompetency(user_id=u[user].id, competency_id=k[code].id, rating=rating,
                           proficient=rating in SCALE[1:], rated_at=when,
                           rated_by_kind="auto" if rating else None,
                           evidence_count=2 if user == "sam" else 1)
        )  # fmt: skip
    session.add(
        UserCompetency(user_id=u["sara"].id, competency_id=k["ETH-1"].id, evidence_count=0,
                       self_rating="proficient", self_rated_at=at("2025-02-21"))
    )  # fmt: skip
    session.commit()


def emails(rows: Any) -> list[str]:
    return [row.email if hasattr(row, "email") else row["email"] for row in rows]
