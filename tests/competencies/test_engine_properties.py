"""Property tests of the rule engine: any order of evidence gives the same ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from vle.competencies import services
from vle.competencies.models import Competency, Evidence, Framework, UserCompetency

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SCALE = ["no", "yes", "expert"]
KINDS = ["course_completed", "quiz_passed", "item_completed", "import", "rating"]

# One piece: (kind, value or None, minutes after T0).
piece = st.tuples(st.sampled_from(KINDS), st.sampled_from([None, *SCALE]), st.integers(0, 500))


def _piece(kind, value, minutes, i):
    return Evidence(id=i, kind=kind, key=str(i), value=value, at=T0 + timedelta(minutes=minutes))


@given(st.lists(piece, max_size=8), st.randoms())
def test_derive_ignores_the_order(pieces, random):
    made = [_piece(*p, i) for i, p in enumerate(pieces)]
    shuffled = list(made)
    random.shuffle(shuffled)
    assert services.derive(SCALE, made) == services.derive(SCALE, shuffled)


@given(st.lists(piece, min_size=1, max_size=8))
def test_a_trainer_rating_always_wins(pieces):
    made = [_piece(*p, i) for i, p in enumerate(pieces)]
    made.append(Evidence(id=99, kind="rating", key="t", value="no", at=T0 - timedelta(days=1)))
    trainer = [p for p in made if p.kind == "rating"]
    latest = max(trainer, key=lambda p: (p.at, p.id))
    derived = services.derive(SCALE, made)
    assert derived.by_trainer and derived.rating == latest.value


@given(st.lists(piece, max_size=8))
def test_a_self_assessment_never_counts(pieces):
    made = [_piece(*p, i) for i, p in enumerate(pieces)]
    with_self = [*made, Evidence(id=98, kind="self_assessment", key="s", value="expert", at=T0)]
    assert services.derive(SCALE, with_self) == services.derive(SCALE, made)


# Evidence for the tree below: (leaf index, kind, value, minutes).
leaf_piece = st.tuples(
    st.integers(0, 3), st.sampled_from(KINDS), st.sampled_from(SCALE), st.integers(0, 500)
)


def _tree(session):
    """F: ROOT (all) ← A (points 2: A1 2 pts, A2 1 pt required), B (leaf); A1, A2 leaves."""
    framework = Framework(code="PF", title="PF", scale=SCALE, proficient=["yes", "expert"],
                          default_value="yes")  # fmt: skip
    session.add(framework)
    session.flush()

    def add(code, parent=None, rule=None):
        node = Competency(framework_id=framework.id, code=code, title=code,
                          parent_id=parent.id if parent else None, rule=rule)  # fmt: skip
        session.add(node)
        session.flush()
        return node

    root = add("ROOT", rule="all")
    a = add("A", root, {"points": 2, "children": {"A1": {"points": 2, "required": False},
                                                  "A2": {"points": 1, "required": True}}})  # fmt: skip
    b = add("B", root)
    a1, a2 = add("A1", a), add("A2", a)
    return [root, a, b, a1, a2], [a1, a2, b, a]


def _standing(session, user_id, nodes):
    rows = {
        row.competency_id: (row.rating, row.proficient)
        for row in session.scalars(select(UserCompetency).where(UserCompetency.user_id == user_id))
    }
    return [rows.get(node.id, (None, False)) for node in nodes]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(pieces=st.lists(leaf_piece, min_size=1, max_size=7), data=st.data())
def test_any_order_of_evidence_gives_the_same_ratings(session, make_user, pieces, data):
    nodes, targets = _tree_once(session)
    order = data.draw(st.permutations(range(len(pieces))))
    results = []
    for sequence in (range(len(pieces)), order):
        learner = make_user()
        for i in sequence:
            target, kind, value, minutes = pieces[i]
            services.record_evidence(session, learner.id, targets[target], kind=kind,
                                     key=f"k{i}", value=value,
                                     at=T0 + timedelta(minutes=minutes))  # fmt: skip
        results.append(_standing(session, learner.id, nodes))
    assert results[0] == results[1]


_TREES: dict[int, tuple] = {}


def _tree_once(session):
    """The tree, made once per test database session (hypothesis runs many
    examples inside one test)."""
    key = id(session)
    if key not in _TREES:
        _TREES[key] = _tree(session)
    return _TREES[key]
