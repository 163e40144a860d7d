"""The rule engine: evidence in, ratings out (competencies.services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from vle.competencies import services
from vle.competencies.models import Competency, Evidence, Framework, UserCompetency

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _framework(session, rule):
    framework = Framework(
        code="F", title="F", scale=["no", "yes", "expert"], proficient=["yes", "expert"],
        default_value="yes",
    )  # fmt: skip
    session.add(framework)
    session.flush()
    parent = Competency(framework_id=framework.id, code="P", title="Parent", rule=rule)
    session.add(parent)
    session.flush()
    children = [
        Competency(framework_id=framework.id, parent_id=parent.id, code=f"C{i}", title=f"C{i}")
        for i in (1, 2)
    ]
    session.add_all(children)
    session.flush()
    return framework, parent, children


def _rating(session, user_id, competency):
    return session.scalar(
        select(UserCompetency).where(
            UserCompetency.user_id == user_id, UserCompetency.competency_id == competency.id
        )
    )


def _standing(session, user_id, competency):
    """(rating, proficient); no row is not rated."""
    row = _rating(session, user_id, competency)
    return (None, False) if row is None else (row.rating, row.proficient)


def test_all_children_proficient_rates_the_parent(session, make_user):
    learner = make_user()
    _, parent, (c1, c2) = _framework(session, "all")
    services.record_evidence(session, learner.id, c1, kind="course_completed", key="a",
                             value="yes", at=T0)  # fmt: skip
    assert _standing(session, learner.id, parent) == (None, False)
    services.record_evidence(session, learner.id, c2, kind="quiz_passed", key="b",
                             value="yes", at=T0 + timedelta(days=1))  # fmt: skip
    row = _rating(session, learner.id, parent)
    assert row.rating == "yes" and row.proficient
    assert row.rated_at == T0 + timedelta(days=1)
    kinds = session.scalars(select(Evidence.kind).where(Evidence.competency_id == parent.id))
    assert list(kinds) == ["rule"]


def test_same_event_twice_is_one_piece_of_evidence(session, make_user):
    learner = make_user()
    _, _, (c1, _) = _framework(session, None)
    for _ in range(2):
        services.record_evidence(session, learner.id, c1, kind="course_completed",
                                 key="course_completed:7", value="yes", at=T0)  # fmt: skip
    assert _rating(session, learner.id, c1).evidence_count == 1


def test_trainer_rating_is_never_overwritten_by_automatic(session, make_user):
    learner = make_user()
    _, _, (c1, _) = _framework(session, None)
    services.record_evidence(session, learner.id, c1, kind="rating", key="r", value="no",
                             at=T0)  # fmt: skip
    services.record_evidence(session, learner.id, c1, kind="quiz_passed", key="q",
                             value="expert", at=T0 + timedelta(days=2))  # fmt: skip
    row = _rating(session, learner.id, c1)
    assert (row.rating, row.proficient, row.rated_by_kind) == ("no", False, "trainer")


def test_points_rule_needs_required_children(session, make_user):
    learner = make_user()
    rule = {"points": 2, "children": {"C1": {"points": 2, "required": False},
                                      "C2": {"points": 1, "required": True}}}  # fmt: skip
    _, parent, (c1, c2) = _framework(session, rule)
    services.record_evidence(session, learner.id, c1, kind="import", key="i", value="yes")
    assert _standing(session, learner.id, parent) == (None, False)
    services.record_evidence(session, learner.id, c2, kind="import", key="j", value="yes")
    assert _rating(session, learner.id, parent).proficient


def test_parent_follows_its_children_whatever_the_order(session, make_user):
    """A child downgraded by a trainer after the parent's rule fired leaves the
    parent as if the rule had never been met (the rule's evidence stays in
    the history), the same as when the downgrade came first."""
    _, parent, (c1, c2) = _framework(session, "all")
    outcomes = []
    for downgrade_first in (False, True):
        learner = make_user()
        steps = [
            lambda u: services.record_evidence(session, u, c1, kind="quiz_passed", key="q",
                                               value="yes", at=T0),
            lambda u: services.record_evidence(session, u, c2, kind="quiz_passed", key="q",
                                               value="yes", at=T0),
            lambda u: services.record_evidence(session, u, c1, kind="rating", key="r",
                                               value="no", at=T0 + timedelta(hours=1)),
        ]  # fmt: skip
        if downgrade_first:
            steps.insert(0, steps.pop())
        for step in steps:
            step(learner.id)
        outcomes.append(_standing(session, learner.id, parent))
    assert outcomes == [(None, False), (None, False)]
