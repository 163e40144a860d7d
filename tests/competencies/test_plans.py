"""Learning plans (competencies.plans): progress, states, freezing, assignment."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from vle.audit import AuditEntry
from vle.competencies import plan_gap, plans, services
from vle.competencies.models import (
    Competency,
    Framework,
    Plan,
    PlanAssignment,
    PlanRating,
    PlanTemplate,
    PlanTemplateCompetency,
)
from vle.errors import Forbidden, Invalid, NotFound
from vle.learning import tasks
from vle.mail.models import Notification


def _framework(session, code="F", n=3):
    framework = Framework(
        code=code, title=code, scale=["no", "yes"], proficient=["yes"], default_value="yes"
    )
    session.add(framework)
    session.flush()
    competencies = [
        Competency(framework_id=framework.id, code=f"{code}{i}", title=f"{code} {i}", position=i)
        for i in range(1, n + 1)
    ]
    session.add_all(competencies)
    session.flush()
    return framework, competencies


def _template(session, competencies, name="Social worker", due=None, organisation_id=None):
    template = PlanTemplate(name=name, due=due, organisation_id=organisation_id)
    session.add(template)
    session.flush()
    session.add_all(
        PlanTemplateCompetency(template_id=template.id, competency_id=c.id) for c in competencies
    )
    session.flush()
    return template


def test_plans_of_reads_progress_and_codes(session, make_user, count_queries):
    learner = make_user()
    _, competencies = _framework(session)
    template = _template(session, competencies, due=date(2027, 1, 1))
    plan = Plan(user_id=learner.id, template_id=template.id, status="active", due=template.due)
    session.add(plan)
    session.flush()
    services.record_evidence(session, learner.id, competencies[0], kind="import", key="i",
                             value="yes")  # fmt: skip
    [line] = plans.plans_of(session, learner.id)
    assert line == plans.PlanLine(
        id=plan.id, name="Social worker", status="active", due=date(2027, 1, 1), progress=33,
        competency_codes=["F1", "F2", "F3"],
    )  # fmt: skip
    assert plans.plans_of(session, make_user().id) == []


# --- the service ---------------------------------------------------------------------------


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def world(session, make_org, make_user):
    """CITY ⊃ SCHOOL; OTHER apart. An admin of CITY, a network admin, learners."""
    w = type("World", (), {})()
    w.city = make_org("CITY")
    w.school = make_org("SCHOOL", parent=w.city)
    w.other = make_org("OTHER")
    w.admin = make_user("admin", org=w.city, email="admin@city.lt")
    w.school_admin = make_user("admin", org=w.school, email="admin@school.lt")
    w.network = make_user("admin", org=w.other, email="net@net.lt", network=True)
    w.trainer = make_user("trainer", org=w.city, email="trainer@city.lt")
    w.ona = make_user(org=w.city, email="ona@city.lt", name="Ona Onaitė")
    w.sam = make_user(org=w.school, email="sam@school.lt", name="Sam School")
    w.olga = make_user(org=w.other, email="olga@other.lt", name="Olga Other")
    w.framework, w.competencies = _framework(session)
    session.commit()
    return w


def _new_template(session, world, actor=None, ids=None, due=None, name="Social worker"):
    template = plans.save_template(
        session, actor or world.admin, None, name=name, description="For the municipality",
        due=due, competency_ids=ids or [c.id for c in world.competencies],
    )  # fmt: skip
    session.commit()
    return template


def _prove(session, user, competency, key="k", value="yes"):
    services.record_evidence(session, user.id, competency, kind="import", key=key, value=value)
    session.commit()


def _plan(session, user, template):
    session.commit()
    return session.scalar(
        select(Plan).where(Plan.user_id == user.id, Plan.template_id == template.id)
    )


def test_a_template_belongs_to_the_admins_organisation_or_the_network(session, world, ctx):
    mine = _new_template(session, world)
    network = _new_template(session, world, actor=world.network, name="Network")
    assert mine.organisation_id == world.city.id and network.organisation_id is None
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "plan_template")))  # fmt: skip
    assert actions == ["plan_template.create", "plan_template.create"]
    # The school's admin sees both (an ancestor's and the network's) but edits neither.
    assert plans.can_see_template(world.school_admin, mine)
    assert not plans.can_edit_template(world.school_admin, mine)
    assert not plans.can_edit_template(world.admin, network)
    assert plans.can_edit_template(world.network, mine)
    # Another organisation's admin does not even see the city's.
    other_admin = world.olga
    other_admin.role = "admin"
    session.commit()
    with pytest.raises(NotFound):
        plans.template_for(session, other_admin, mine.id)
    with pytest.raises(Forbidden):
        plans.template_for(session, world.school_admin, mine.id, edit=True)
    # Trainers do not manage templates (as in Moodle, managers do).
    with pytest.raises(Forbidden):
        plans.templates_for(session, world.trainer)


def test_bad_template_input_is_refused_and_writes_nothing(session, world, ctx):
    for kwargs, words in (
        ({"name": "  ", "competency_ids": [world.competencies[0].id]}, "required"),
        ({"name": "X", "competency_ids": []}, "at least one competency"),
        ({"name": "X", "competency_ids": [10**6]}, "does not exist"),
        ({"name": "X" * 201, "competency_ids": [world.competencies[0].id]}, "longer than"),
        ({"name": "X\x00", "competency_ids": [world.competencies[0].id]}, "cannot be stored"),
    ):
        with pytest.raises(Invalid, match=words):
            plans.save_template(session, world.admin, None, description="", due=None, **kwargs)
        session.rollback()
    assert session.scalar(select(PlanTemplate.id)) is None


def test_progress_states_and_frozen_ratings(session, world, ctx):
    c1, c2, c3 = world.competencies
    template = _new_template(session, world, due=date(2030, 1, 31))
    made, had = plans.assign_people(session, world.admin, template, [world.ona])
    session.commit()
    assert had == [] and [p.status for p in made] == ["active"] and made[0].due == template.due
    [line] = plans.plans_of(session, world.ona.id)
    assert (line.status, line.progress) == ("active", 0)
    _prove(session, world.ona, c1)
    _prove(session, world.ona, c2)
    assert plans.plans_of(session, world.ona.id)[0].progress == 66
    _prove(session, world.ona, c3)  # the last one: the plan completes by itself
    plan = _plan(session, world.ona, template)
    assert plan.status == "complete" and plan.completed_at is not None
    frozen = {r.competency_id: (r.rating, r.proficient)
              for r in session.scalars(select(PlanRating).where(PlanRating.plan_id == plan.id))}  # fmt: skip
    assert frozen == {c.id: ("yes", True) for c in world.competencies}
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.complete"))
    assert entry.actor_id is None and entry.details["via"] == "automatic"
    # A trainer's later rating below proficient changes the learner's rating, not
    # the complete plan's.
    services.record_evidence(session, world.ona.id, c1, kind="rating", key="r", value="no")
    session.commit()
    assert plans.plans_of(session, world.ona.id)[0].progress == 100
    [first, *_] = plans.plan_items(session, plan)[0][1]
    assert (first.rating, first.proficient) == ("yes", True)
    # Reopened, it follows the current ratings again and stays active.
    plans.reopen(session, world.admin, plan, "127.0.0.1")
    session.commit()
    assert plans.plans_of(session, world.ona.id)[0].progress == 66
    assert _plan(session, world.ona, template).status == "active"
    assert session.scalar(select(PlanRating.id).where(PlanRating.plan_id == plan.id)) is None
    # Completed by hand, it keeps the ratings as they stand (one not proficient).
    plans.complete(session, world.admin, plan, "127.0.0.1")
    session.commit()
    line = plans.plans_of(session, world.ona.id)[0]
    assert (line.status, line.progress) == ("complete", 66)
    actions = [e.action for e in session.scalars(select(AuditEntry).where(
        AuditEntry.target_type == "user", AuditEntry.target_id == world.ona.id))]  # fmt: skip
    assert actions == ["plan.assign", "plan.complete", "plan.reopen", "plan.complete"]
    with pytest.raises(Invalid):
        plans.complete(session, world.admin, plan)


def test_a_draft_is_not_told_until_activated_and_then_completes_if_it_can(session, world, ctx):
    template = _new_template(session, world, ids=[world.competencies[0].id])
    _prove(session, world.ona, world.competencies[0])
    plans.assign_people(session, world.admin, template, [world.ona], draft=True)
    session.commit()
    plan = _plan(session, world.ona, template)
    assert plan.status == "draft"
    assert session.scalar(select(Notification.id)) is None
    plans.activate(session, world.admin, plan)
    session.commit()
    assert session.scalar(select(Notification.kind)) == "plan_assigned"
    assert _plan(session, world.ona, template).status == "complete"
    with pytest.raises(Invalid):
        plans.activate(session, world.admin, plan)


def test_assigning_twice_keeps_the_first_plan(session, world, ctx):
    template = _new_template(session, world)
    plans.assign_people(session, world.admin, template, [world.ona])
    session.commit()
    made, had = plans.assign_people(session, world.admin, template, [world.ona, world.sam])
    session.commit()
    assert [p.user_id for p in made] == [world.sam.id] and had == [world.ona]
    assert len(list(session.scalars(select(Plan.id)))) == 2


def test_scope_of_assigning_and_managing(session, world, ctx):
    template = _new_template(session, world)
    with pytest.raises(Forbidden):
        plans.assign_people(session, world.admin, template, [world.olga])
    session.rollback()
    with pytest.raises(Forbidden):
        plans.assign_organisation(session, world.admin, template, world.other, "learner")
    session.rollback()
    with pytest.raises(Forbidden):  # a trainer assigns nothing
        plans.assign_people(session, world.trainer, template, [world.ona])
    session.rollback()
    assert session.scalar(select(Plan.id)) is None
    assert session.scalar(select(PlanAssignment.id)) is None
    plans.assign_people(session, world.admin, template, [world.sam])
    session.commit()
    plan = _plan(session, world.sam, template)
    assert plans.can_manage_plan(world.school_admin, plan)
    assert not plans.can_manage_plan(world.trainer, plan)
    with pytest.raises(Forbidden):
        plans.complete(session, world.trainer, plan)


def test_an_organisation_assignment_holds_people_who_join_later(session, world, make_user, ctx):
    template = _new_template(session, world, due=date(2030, 6, 1))
    assert plans.count_organisation(session, template, world.city, "learner") == 2
    assignment, n = plans.assign_organisation(session, world.admin, template, world.city, "learner")
    session.commit()
    assert n == 2  # Ona (CITY) and Sam (SCHOOL), not the trainer nor Olga (OTHER)
    holders = set(session.scalars(select(Plan.user_id)))
    assert holders == {world.ona.id, world.sam.id}
    assert session.scalar(select(func_count_notifications())) == 2
    # A learner who joins the subtree later gets it within a minute, from the
    # course assignments' periodic task; someone outside it does not.
    newcomer = make_user(org=world.school, email="new@school.lt")
    make_user(org=world.other, email="far@other.lt")
    make_user("trainer", org=world.city, email="t2@city.lt")
    assert tasks.hold_newcomers.call_local() == 1
    assert tasks.hold_newcomers.call_local() == 0
    plan = _plan(session, newcomer, template)
    assert plan.status == "active" and plan.due == date(2030, 6, 1)
    # Someone who moves into the subtree is a newcomer too.
    world.olga.organisation_id = world.school.id
    session.commit()
    assert tasks.hold_newcomers.call_local() == 1
    # Withdrawn, it holds nobody new; the plans stay.
    plans.withdraw(session, world.admin, assignment)
    session.commit()
    make_user(org=world.city, email="late@city.lt")
    assert tasks.hold_newcomers.call_local() == 0
    assert len(list(session.scalars(select(Plan.id)))) == 4
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"plan_assignment.create", "plan_assignment.withdraw", "plan.assign"} <= actions


def func_count_notifications():
    return select(func.count()).select_from(Notification).scalar_subquery()


def test_editing_a_template_moves_open_plans_due_dates_and_may_complete_them(session, world, ctx):
    c1, c2, _ = world.competencies
    template = _new_template(session, world, ids=[c1.id, c2.id], due=date(2030, 1, 1))
    plans.assign_people(session, world.admin, template, [world.ona, world.sam])
    session.commit()
    _prove(session, world.ona, c1)
    plans.save_template(session, world.admin, template, name="Social worker II",
                        description="", due=date(2031, 1, 1), competency_ids=[c1.id])  # fmt: skip
    session.commit()
    assert _plan(session, world.ona, template).status == "complete"  # c1 was all it needed
    sam = _plan(session, world.sam, template)
    assert sam.status == "active" and sam.due == date(2031, 1, 1)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plan_template.update"))
    assert entry.details["changed"] == ["name", "description", "due", "competencies"]


def test_deleting_a_template_deletes_its_plans_not_the_ratings(session, world, ctx):
    template = _new_template(session, world)
    plans.assign_people(session, world.admin, template, [world.ona])
    _prove(session, world.ona, world.competencies[0])
    assert plans.plan_counts(session, template.id) == {"active": 1}
    with pytest.raises(Forbidden):
        plans.delete_template(session, world.school_admin, template)
    assert plans.delete_template(session, world.admin, template) == 1
    session.commit()
    assert session.scalar(select(Plan.id)) is None
    assert session.scalar(select(PlanTemplate.id)) is None
    assert plans.plans_of(session, world.ona.id) == []
    assert session.scalar(select(AuditEntry.details).where(
        AuditEntry.action == "plan_template.delete")) == {"plans": 1}  # fmt: skip


def test_the_gap_view_counts_who_lacks_what_within_the_subtree(session, world, ctx):
    c1, c2, c3 = world.competencies
    template = _new_template(session, world, actor=world.network)
    plans.assign_people(session, world.network, template, [world.ona, world.sam, world.olga])
    session.commit()
    _prove(session, world.ona, c1)
    _prove(session, world.sam, c1)
    _prove(session, world.sam, c2, key="k2")
    table = plan_gap.gap(session, world.admin, template, world.city)
    assert table.total == 2 and table.proficient_counts == [2, 1, 0]
    assert [(r.user.name, r.proficient) for r in table.rows] == [
        ("Ona Onaitė", [True, False, False]),
        ("Sam School", [True, True, False]),
    ]
    assert table.share(1) == 50
    # A complete plan counts with its frozen ratings.
    plans.complete(session, world.network, _plan(session, world.sam, template))
    session.commit()
    services.record_evidence(session, world.sam.id, c2, kind="rating", key="r", value="no")
    session.commit()
    assert plan_gap.gap(session, world.admin, template, world.city).proficient_counts == [2, 1, 0]
    # The network administrator sees the whole network; a scoped one only theirs.
    assert plan_gap.gap(session, world.network, template, None).total == 3
    assert plan_gap.gap(session, world.admin, template, None).total == 2
    with pytest.raises(Forbidden):
        plan_gap.gap(session, world.admin, template, world.other)
    rows = [row for _c, chunk in plan_gap.gap_lines(session, template, world.school, chunk=1)
            for row in chunk]  # fmt: skip
    assert [row.user.email for row in rows] == ["sam@school.lt"]


def test_plans_of_and_gap_read_in_a_fixed_number_of_queries(
    session, world, make_user, count_queries, ctx
):
    template = _new_template(session, world)
    other = _new_template(session, world, name="Other", ids=[world.competencies[0].id])
    people = [make_user(org=world.city) for _ in range(3)]
    plans.assign_people(session, world.admin, template, [world.ona, *people])
    plans.assign_people(session, world.admin, other, [world.ona])
    session.commit()
    plans.complete(session, world.admin, _plan(session, world.ona, other))
    session.commit()
    with count_queries() as counter:
        lines = plans.plans_of(session, world.ona.id)
    assert counter.count == 4 and [line.name for line in lines] == ["Social worker", "Other"]
    with count_queries() as small:
        plan_gap.gap(session, world.admin, template, world.city, per_page=1)
    with count_queries() as large:
        plan_gap.gap(session, world.admin, template, world.city, per_page=100)
    assert small.count == large.count
