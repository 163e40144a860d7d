"""Assigned training, the service: people, CSV lines, organisation subtrees,
newcomers, due dates, unenrolment and scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from vle.audit import AuditEntry
from vle.errors import Forbidden, Invalid
from vle.learning import assignments, tasks
from vle.learning import services as learning
from vle.learning.models import Assignment, AssignmentMember, Enrolment
from vle.mail.models import OutboxMail


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def world(session, make_org, make_user, make_course):
    """CITY ⊃ SCHOOL; OTHER apart. An admin of CITY, a network admin, a trainer of
    the course (in CITY), learners in CITY, SCHOOL and OTHER."""
    city = make_org("CITY")
    school = make_org("SCHOOL", parent=city)
    other = make_org("OTHER")
    w = type("World", (), {})()
    w.city, w.school, w.other = city, school, other
    w.admin = make_user("admin", org=city, email="admin@city.lt")
    w.network = make_user("admin", org=other, email="net@net.lt", network=True)
    w.trainer = make_user("trainer", org=city, email="trainer@city.lt")
    w.ona = make_user(org=city, email="ona@city.lt", name="Ona Onaitė")
    w.sam = make_user(org=school, email="sam@school.lt", name="Sam School")
    w.teacher = make_user("trainer", org=school, email="teacher@school.lt")
    w.olga = make_user(org=other, email="olga@other.lt")
    w.course = make_course("safety", trainers=[w.trainer])
    return w


def enrolment(session, user, course):
    session.commit()  # ends the session's read transaction: it sees what others committed
    return session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    )


def test_assigning_people_enrols_them_at_once_with_the_due_date(session, world, ctx):
    due = date.today() + timedelta(days=30)
    assignment, plan = assignments.assign_people(
        session, world.admin, world.course, [(1, "ona@city.lt"), (2, "SAM@school.lt")], due
    )
    session.commit()
    assert assignment.status == "done" and assignment.assigned == 2
    assert session.scalar(select(OutboxMail.key)) is None  # mails come from the task
    tasks.fill_assignment(assignment.id)
    session.commit()
    for user in (world.ona, world.sam):
        e = enrolment(session, user, world.course)
        assert (e.method, e.status, e.due) == ("assigned", "not_started", due)
        assert not e.is_overdue(date.today())
    # Told by mail, once each; and audited, the assignment and each person.
    mails = session.scalars(select(OutboxMail.key)).all()
    assert sorted(mails) == sorted(
        f"assigned:{assignment.id}:{u.id}" for u in (world.ona, world.sam)
    )
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("assignment.create") == 1 and actions.count("assignment.assign") == 2


def test_the_dry_run_lists_each_lines_outcome_and_writes_nothing(session, world, ctx):
    assignments.assign_people(session, world.admin, world.course, [(1, "sam@school.lt")])
    session.commit()
    entries = assignments.read_emails_csv(
        "\ufeffname;email\nOna;ona@city.lt\nX;nobody@city.lt\nOna;ONA@city.lt\n"
        "Olga;olga@other.lt\nSam;sam@school.lt\nBad;not-an-email\n".encode()
    )
    before = session.scalar(select(Assignment.id).order_by(Assignment.id.desc()))
    plan = assignments.plan_people(session, world.admin, world.course, entries)
    outcomes = [(line.line, line.email, line.reason) for line in plan.lines]
    assert outcomes == [
        (2, "ona@city.lt", None),
        (3, "nobody@city.lt", "unknown"),
        (4, "ona@city.lt", "duplicate"),
        (5, "olga@other.lt", "out_of_scope"),
        (6, "sam@school.lt", "already_assigned"),
        (7, "not-an-email", "invalid"),
    ]
    assert session.scalar(select(Assignment.id).order_by(Assignment.id.desc())) == before
    assert enrolment(session, world.ona, world.course) is None
    # Confirmed: the valid line is assigned, the others are kept as refused.
    assignment, _plan = assignments.assign_people(session, world.admin, world.course, entries)
    session.commit()
    assert assignment.assigned == 1
    assert {r["reason"] for r in assignment.refused} == {
        "unknown", "duplicate", "out_of_scope", "already_assigned", "invalid"
    }  # fmt: skip
    assert enrolment(session, world.olga, world.course) is None
    assert enrolment(session, world.ona, world.course).method == "assigned"


def test_a_file_in_another_encoding_is_refused_whole(ctx):
    with pytest.raises(Invalid, match="not UTF-8"):
        assignments.read_emails_csv("email\nżaneta@city.lt\n".encode("cp1257"))
    with pytest.raises(Invalid, match="email"):
        assignments.read_emails_csv(b"mail\nona@city.lt\n")


def test_nobody_assignable_is_an_error_and_writes_nothing(session, world, ctx):
    with pytest.raises(Invalid):
        assignments.assign_people(session, world.admin, world.course, [(1, "olga@other.lt")])
    session.rollback()
    assert session.scalar(select(Assignment.id)) is None


def test_a_subtree_of_one_role_is_assigned_by_the_task_and_newcomers_join(
    session, world, make_user, ctx
):
    assignment = assignments.assign_organisation(
        session, world.admin, world.course, world.city, "learner"
    )
    session.commit()
    assert assignment.status == "queued"
    tasks.fill_assignment(assignment.id)  # immediate mode: runs now
    session.expire_all()
    assignment = session.get(Assignment, assignment.id)
    assert (assignment.status, assignment.assigned) == ("done", 2)
    held = set(session.scalars(select(AssignmentMember.user_id)))
    assert held == {world.ona.id, world.sam.id}  # learners of CITY and SCHOOL only
    assert enrolment(session, world.teacher, world.course) is None
    assert enrolment(session, world.olga, world.course) is None
    # Someone joins the school later: the periodic task enrols them.
    newcomer = make_user(org=world.school, email="new@school.lt")
    assert tasks.hold_newcomers.call_local() == 1
    assert enrolment(session, newcomer, world.course).method == "assigned"
    assert tasks.hold_newcomers.call_local() == 0


def test_every_role_with_none(session, world, ctx):
    assignment = assignments.assign_organisation(
        session, world.admin, world.course, world.school, None
    )
    session.commit()
    tasks.fill_assignment(assignment.id)
    session.expire_all()
    assert set(session.scalars(select(AssignmentMember.user_id))) == {
        world.sam.id, world.teacher.id
    }  # fmt: skip


def test_a_past_due_date_is_overdue_at_once_until_completed(session, world, ctx):
    yesterday = date.today() - timedelta(days=1)
    assignments.assign_people(session, world.admin, world.course, [(1, "ona@city.lt")], yesterday)
    session.commit()
    e = enrolment(session, world.ona, world.course)
    assert e.due == yesterday and e.is_overdue(date.today())
    line = learning.my_enrolments(session, world.ona)[0]
    assert line.due == yesterday and line.is_overdue(date.today())
    for item in world.course.items:
        learning.complete_item(session, world.ona, world.course, item)
    session.commit()
    assert not enrolment(session, world.ona, world.course).is_overdue(date.today())


def test_the_earliest_due_date_in_force_counts(session, world, ctx):
    soon, later = date(2030, 1, 1), date(2030, 6, 1)
    first, _ = assignments.assign_people(
        session, world.admin, world.course, [(1, "ona@city.lt")], later
    )
    second = assignments.assign_organisation(
        session, world.admin, world.course, world.city, "learner", soon
    )
    session.commit()
    tasks.fill_assignment(second.id)
    assert enrolment(session, world.ona, world.course).due == soon
    assignments.withdraw(session, world.admin, session.get(Assignment, second.id))
    session.commit()
    assert enrolment(session, world.ona, world.course).due == later


def test_unenrolling_keeps_the_history(session, world, ctx):
    assignment, _ = assignments.assign_people(
        session, world.admin, world.course, [(1, "ona@city.lt")], date(2030, 1, 1)
    )
    session.commit()
    learning.complete_item(session, world.ona, world.course, world.course.items[0])
    session.commit()
    assignments.unenrol(session, world.admin, world.course, world.ona)
    session.commit()
    e = enrolment(session, world.ona, world.course)
    assert e is not None and e.ended_at is not None and e.progress == 33
    assert e.due is None  # no assignment holds them any more
    member = session.scalar(select(AssignmentMember))
    assert member.ended_at is not None
    assert learning.my_enrolments(session, world.ona) == []
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "enrolment.end"))
    # The newcomers' task does not put them back; enrolling again reopens the row.
    assignment_org = assignments.assign_organisation(
        session, world.admin, world.course, world.school, "learner"
    )
    session.commit()
    tasks.fill_assignment(assignment_org.id)
    assert tasks.hold_newcomers.call_local() == 0
    again, created = learning.enrol(session, world.ona, world.course)
    session.commit()
    assert created and again.id == e.id and again.progress == 33 and again.ended_at is None


def test_withdrawing_keeps_enrolments_and_stops_newcomers(session, world, make_user, ctx):
    assignment = assignments.assign_organisation(
        session, world.admin, world.course, world.school, "learner"
    )
    session.commit()
    tasks.fill_assignment(assignment.id)
    session.expire_all()
    assignments.withdraw(session, world.admin, session.get(Assignment, assignment.id))
    session.commit()
    assert enrolment(session, world.sam, world.course).ended_at is None
    make_user(org=world.school, email="late@school.lt")
    assert tasks.hold_newcomers.call_local() == 0


def test_scope(session, world, make_course, ctx):
    # A scoped admin: nothing outside their subtree.
    with pytest.raises(Forbidden):
        assignments.assign_organisation(session, world.admin, world.course, world.other)
    # A learner, and a trainer of another course, may not assign at all.
    for actor in (world.ona, world.teacher):
        with pytest.raises(Forbidden):
            assignments.assign_people(session, actor, world.course, [(1, "ona@city.lt")])
    # The course's trainer: people of their own subtree.
    plan = assignments.plan_people(
        session, world.trainer, world.course, [(1, "sam@school.lt"), (2, "olga@other.lt")]
    )
    assert [line.reason for line in plan.lines] == [None, "out_of_scope"]
    # A network administrator: everyone.
    plan = assignments.plan_people(session, world.network, world.course, [(1, "olga@other.lt")])
    assert plan.lines[0].ok
    # A draft cannot be assigned.
    draft = make_course("draft", status="draft", trainers=[world.trainer])
    with pytest.raises(Invalid):
        assignments.assign_people(session, world.trainer, draft, [(1, "ona@city.lt")])
    assert session.scalar(select(Assignment.id)) is None


def test_find_people_within_scope(session, world, ctx):
    assert [u.email for u in assignments.find_people(session, world.admin, "school")] == [
        "sam@school.lt", "teacher@school.lt"
    ]  # fmt: skip
    assert assignments.find_people(session, world.admin, "olga") == []
    assert [u.email for u in assignments.find_people(session, world.network, "olga")] == [
        "olga@other.lt"
    ]


def test_an_assignment_whose_task_was_lost_is_finished_by_the_periodic_task(
    session, world, ctx, monkeypatch
):
    """The queue could not take the task (Redis down): the assignment is saved
    all the same, and the periodic task finishes it ten minutes later."""
    from datetime import UTC, datetime

    def queue_down(*_args):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(tasks, "fill_assignment", queue_down)
    assignment = assignments.assign_organisation(
        session, world.admin, world.course, world.school, "learner"
    )
    people, _plan = assignments.assign_people(
        session, world.admin, world.course, [(1, "ona@city.lt")]
    )
    session.commit()
    tasks.queue_fill(assignment.id)  # logged, not raised
    tasks.queue_fill(people.id)
    monkeypatch.undo()
    assert tasks.hold_newcomers.call_local() == 0  # too early: perhaps still on its way
    assert enrolment(session, world.sam, world.course) is None
    later = datetime.now(UTC) + assignments.STALLED_AFTER * 2
    monkeypatch.setattr(assignments, "utcnow", lambda: later)
    tasks.hold_newcomers.call_local()
    assert enrolment(session, world.sam, world.course).method == "assigned"
    session.refresh(assignment)
    assert assignment.status == "done"
    assert sorted(session.scalars(select(OutboxMail.key))) == sorted(
        [f"assigned:{assignment.id}:{world.sam.id}", f"assigned:{people.id}:{world.ona.id}"]
    )
