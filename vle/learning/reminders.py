"""Due-date reminders of assigned training: once a day, a notification
"due in N days" (`VLE_DUE_REMINDER_DAYS`, default 7) to each learner whose
enrolment's due date is that near, and "overdue" once it has passed; each at
most once per enrolment (the notification's key says which, so a second run,
or two workers, send nothing more)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, String, cast, exists, literal, select

from vle import db
from vle.accounts.models import User
from vle.catalog.models import Course
from vle.db import utcnow
from vle.learning.models import Enrolment, EnrolmentStatus
from vle.mail import services as mail
from vle.mail.models import Notification
from vle.mail.queue import crontab, periodic_task

BATCH = 200


def due_window(due: Any, kind: str, today: date) -> tuple[ColumnElement[bool], ...]:
    """SQL: the date column `due` is in the window of the `kind` reminder: "due_soon",
    from today to `VLE_DUE_REMINDER_DAYS` ahead; "overdue", before today. (Learning
    plans' reminders use it too.)"""
    if kind.endswith("due_soon"):
        days = int(current_app.config.get("DUE_REMINDER_DAYS", 7))
        return (due >= today, due <= today + timedelta(days=days))
    return (due < today,)


def not_told(kind: str, row_id: Any) -> ColumnElement[bool]:
    """SQL: no notification has the key "<kind>:<row id>" yet (each reminder once)."""
    return ~exists().where(Notification.key == literal(f"{kind}:") + cast(row_id, String))


def in_batches(step: Callable[[Any, str, date], int], kinds: Iterable[str], today: date) -> int:
    """`step(db_session, kind, today)` for each kind, a batch per transaction, until a
    batch comes back smaller than `BATCH`; how many reminders in all."""
    total = 0
    with mail.rendering_once():  # the same courses and dates batch after batch
        for kind in kinds:
            while True:
                with db.transaction() as db_session:
                    done = step(db_session, kind, today)
                total += done
                if done < BATCH:
                    break
    return total


def _due_rows(db_session: Any, kind: str, today: date, limit: int) -> list[Any]:
    """Enrolments due for the `kind` reminder and not reminded yet."""
    window = due_window(Enrolment.due, kind, today)
    return list(
        db_session.execute(
            select(Enrolment.id, Enrolment.due, User, Course.title, Course.slug)
            .join(User, User.id == Enrolment.user_id)
            .join(Course, Course.id == Enrolment.course_id)
            .where(
                *window,
                Enrolment.status != EnrolmentStatus.COMPLETED,
                Enrolment.ended_at.is_(None),
                User.erased_at.is_(None),
                User.active.is_(True),
                not_told(kind, Enrolment.id),
            )
            .order_by(Enrolment.id)
            .limit(limit)
        )
    )


def remind_batch(db_session: Any, kind: str, today: date, limit: int = BATCH) -> int:
    """Notify up to `limit` learners of `kind` ("due_soon" or "overdue"); how many."""
    rows = _due_rows(db_session, kind, today, limit)
    course_urls: dict[str, str] = {}
    notices = []
    for enrolment_id, due, user, title, slug in rows:
        if slug not in course_urls:
            course_urls[slug] = mail.external_url("learning.course", slug=slug)
        course_url = course_urls[slug]
        notices.append(
            mail.Notice(
                user_id=user.id,
                to_address=user.email,
                to_name=user.name,
                locale=user.locale,
                kind=kind,
                context={"course_title": title, "course_url": course_url, "due": due},
                key=f"{kind}:{enrolment_id}",
                url=course_url,
            )
        )
    mail.notify_many(db_session, notices)
    db_session.flush()
    return len(rows)


def send_due_reminders(today: date | None = None) -> int:
    """Every reminder due today, a batch per transaction; how many."""
    return in_batches(remind_batch, ("overdue", "due_soon"), today or utcnow().date())


@periodic_task(crontab(minute="30", hour="5"))
def due_reminders() -> int:
    return send_due_reminders()
