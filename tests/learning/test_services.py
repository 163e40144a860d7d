from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from vle import db
from vle.accounts.models import User
from vle.catalog.models import Course
from vle.errors import Forbidden, Invalid
from vle.learning import services
from vle.learning.models import Completion, Enrolment


def test_completion_is_recorded_once_with_its_time_and_expiry(session, make_course, make_user):
    course = make_course(lessons=2, validity_months=12)
    user = make_user()
    enrolment, created = services.enrol(session, user, course)
    assert created and enrolment.status == "not_started"
    t1 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    services.complete_item(session, user, course, course.items[0], now=t1)
    assert enrolment.status == "in_progress" and enrolment.progress == 50
    services.complete_item(session, user, course, course.items[1], now=t1)
    services.complete_item(session, user, course, course.items[1], now=datetime.now(UTC))
    session.commit()
    assert enrolment.status == "completed" and enrolment.completed_at == t1
    completions = session.scalars(select(Completion)).all()
    assert len(completions) == 1
    assert completions[0].expires_at == datetime(2027, 1, 31, 9, 0, tzinfo=UTC)


def test_completion_is_not_taken_back_when_content_grows(session, make_course, make_user):
    course = make_course(lessons=1)
    user = make_user()
    enrolment, _ = services.enrol(session, user, course)
    services.complete_item(session, user, course, course.items[0])
    session.commit()
    from vle.catalog.models import Item

    course.modules[0].items.append(
        Item(slug="new", position=9, kind="lesson", title="New", required=True, source="x")
    )
    session.flush()
    services.recount_course(session, course)
    assert enrolment.status == "completed" and enrolment.progress == 100


def test_recount_after_new_required_item(session, make_course, make_user):
    course = make_course(lessons=2)
    user = make_user()
    enrolment, _ = services.enrol(session, user, course)
    services.complete_item(session, user, course, course.items[0])
    assert enrolment.progress == 50
    from vle.catalog.models import Item

    course.modules[0].items.append(
        Item(slug="new", position=9, kind="lesson", title="New", required=True, source="x")
    )
    session.flush()
    services.recount_course(session, course)
    assert enrolment.progress == 33


def test_self_enrolment_rules(session, make_course, make_user):
    user = make_user()
    with pytest.raises(Invalid):
        services.enrol(session, user, make_course(key="k"), key="wrong")
    with pytest.raises(Forbidden):
        services.enrol(session, user, make_course(status="archived"))
    closed = make_course()
    closed.ends = datetime(2020, 1, 1, tzinfo=UTC).date()
    with pytest.raises(Forbidden):
        services.enrol(session, user, closed)
    # An administrator may still enrol someone by hand.
    enrolment, created = services.enrol(session, user, closed, method="manual")
    assert created and enrolment.method == "manual"


def test_add_months_clamps_to_month_end():
    assert services._add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert services._add_months(datetime(2026, 11, 15, tzinfo=UTC), 14) == datetime(
        2028, 1, 15, tzinfo=UTC
    )


def test_a_view_is_recorded_once_with_its_first_time_and_starts_the_course(
    session, make_course, make_user
):
    from vle.learning.models import ItemProgress

    course = make_course(lessons=2)
    user = make_user()
    enrolment, _ = services.enrol(session, user, course)
    session.commit()
    first, second = course.items
    t1, t2 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    services.record_view(session, user, course, first, t1)
    # Again (a second tab): one row, the first time kept.
    services.record_view(session, user, course, first, t2)
    # A row that exists without a view (written by something else) gets its view time.
    session.add(ItemProgress(user_id=user.id, item_id=second.id))
    session.flush()
    services.record_view(session, user, course, second, t2)
    session.commit()
    session.expire_all()
    rows = {row.item_id: row.viewed_at for row in session.scalars(select(ItemProgress))}
    assert rows == {first.id: t1, second.id: t2}
    assert session.get(type(enrolment), enrolment.id).status == "in_progress"


def test_two_items_completed_at_once_are_counted_one_after_the_other(
    app, session, make_course, make_user
):
    """Two tabs complete the course's last two items at the same moment: the
    second waits for the first's lock on the enrolment and counts its item too.
    (PostgreSQL: SQLite's writers take turns in vle before they begin.) It
    fails if the progress rows are read in the locking query itself."""
    if session.get_bind().dialect.name != "postgresql":
        return
    course = make_course(lessons=2)
    user = make_user()
    services.enrol(session, user, course)
    session.commit()
    first, second = course.items[0].id, course.items[1].id
    sessions = db.get_database(app).sessionmaker
    done: list[str] = []

    def complete(item_id: int) -> None:
        with sessions() as other:
            course_there = other.get(Course, course.id)
            item = next(i for i in course_there.items if i.id == item_id)
            services.complete_item(other, other.get(User, user.id), course_there, item)
            other.commit()
        done.append("second")

    with sessions() as tab:
        course_here = tab.get(Course, course.id)
        item = next(i for i in course_here.items if i.id == first)
        services.complete_item(tab, tab.get(User, user.id), course_here, item)  # locks, uncommitted
        other_tab = threading.Thread(target=complete, args=(second,))
        other_tab.start()
        other_tab.join(0.5)
        assert done == []  # waiting for the enrolment's lock
        tab.commit()
    other_tab.join(10)
    assert done == ["second"]
    session.expire_all()
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert (enrolment.status, enrolment.progress) == ("completed", 100)
    assert len(session.scalars(select(Completion)).all()) == 1
