"""Learning plans' mail: "plan assigned" and the daily due-date reminders ("due
soon", "overdue"), each once, to a real SMTP server, in the learner's language."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.competencies.test_plans import _framework
from vle.competencies import plan_reminders, plans
from vle.competencies.models import Plan
from vle.mail.models import Notification


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def world(session, make_org, make_user):
    w = type("World", (), {})()
    w.city = make_org("CITY")
    w.admin = make_user("admin", org=w.city, email="admin@city.lt")
    w.ona = make_user(org=w.city, email="ona@city.lt", name="Ona Onaitė")
    w.sam = make_user(org=w.city, email="sam@city.lt", name="Sam Smith")
    w.ona.locale = "lt"
    w.framework, w.competencies = _framework(session)
    session.commit()
    return w


TODAY = date(2030, 3, 10)


def _template(session, world, due):
    template = plans.save_template(
        session, world.admin, None, name="Social worker", description="", due=due,
        competency_ids=[c.id for c in world.competencies],
    )  # fmt: skip
    session.commit()
    return template


def _body(message):
    return message.get_body(("plain",)).get_content()


def test_the_assigned_person_is_told_by_mail_in_their_language(session, world, smtp_server,
                                                                ctx):  # fmt: skip
    template = _template(session, world, date(2030, 3, 15))
    plans.assign_people(session, world.admin, template, [world.ona, world.sam])
    session.commit()
    messages = {str(m["To"]): m for m in smtp_server.wait_for(2)}
    sam = next(m for to, m in messages.items() if "sam@city.lt" in to)
    ona = next(m for to, m in messages.items() if "ona@city.lt" in to)
    assert "Social worker" in sam["Subject"]
    assert "You have been given the learning plan" in _body(sam) and "March" in _body(sam)
    plan_id = session.scalar(select(Plan.id).where(Plan.user_id == world.sam.id))
    assert f"/plans/{plan_id}" in _body(sam)
    assert "kovo 15" in _body(ona)  # the due date in Lithuanian
    assert ona["List-Unsubscribe"]  # a notification one can stop


def test_due_soon_and_overdue_are_sent_once_each_in_the_learners_language(
    app, session, world, smtp_server, ctx
):
    soon = _template(session, world, TODAY + timedelta(days=app.config["DUE_REMINDER_DAYS"]))
    late = plans.save_template(
        session, world.admin, None, name="Care home nurse", description="",
        due=TODAY - timedelta(days=1), competency_ids=[world.competencies[0].id],
    )  # fmt: skip
    far = plans.save_template(
        session, world.admin, None, name="Librarian", description="",
        due=TODAY + timedelta(days=30), competency_ids=[world.competencies[0].id],
    )  # fmt: skip
    session.commit()
    for template in (soon, late, far):
        plans.assign_people(session, world.admin, template, [world.ona])
    plans.assign_people(session, world.admin, soon, [world.sam], draft=True)  # a draft: no
    session.commit()
    smtp_server.wait_for(3)  # the three "plan assigned" mails
    smtp_server.messages.clear()
    assert plan_reminders.send_due_reminders(TODAY) == 2
    assert plan_reminders.send_due_reminders(TODAY) == 0  # once each
    messages = smtp_server.wait_for(2)
    subjects = sorted(m["Subject"] for m in messages)
    assert len(messages) == 2 and all("ona@city.lt" in str(m["To"]) for m in messages)
    assert any("Care home nurse" in s for s in subjects)
    assert any("Social worker" in s for s in subjects)
    soon_mail = next(m for m in messages if "Social worker" in m["Subject"])
    assert "kovo 17" in soon_mail["Subject"]  # the due date in Lithuanian
    kinds = sorted(session.scalars(select(Notification.kind).where(
        Notification.kind.in_(["plan_due_soon", "plan_overdue"]))))  # fmt: skip
    assert kinds == ["plan_due_soon", "plan_overdue"]


def test_a_complete_plan_is_not_reminded(session, world, ctx):
    template = _template(session, world, TODAY - timedelta(days=3))
    plans.assign_people(session, world.admin, template, [world.ona])
    session.commit()
    plan = session.scalar(select(Plan))
    plans.complete(session, world.admin, plan)
    session.commit()
    assert plan_reminders.send_due_reminders(TODAY) == 0


def test_the_daily_task_is_registered_with_the_queue(app):
    from vle.mail.queue import huey

    names = {task.__name__ for task in huey._registry._periodic_tasks}
    assert any(name.endswith("plan_due_reminders") for name in names)
