"""A trainer's message to the learners of a course (issue 15, point 6): to all
of them or to those chosen, each told on My learning and by mail (the
`message` notification kind, which each person may stop or get in the
daily digest). Audited.

The request checks the message, writes the audit entry and queues one job,
once it has committed; the worker tells the learners, a batch per
transaction: a course of 20,000 learners answers as fast as one of two.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from vle import db
from vle.accounts.models import User
from vle.audit import audit
from vle.catalog.models import Course
from vle.errors import Forbidden, Invalid
from vle.inputs import MAX_ID
from vle.learning.models import Enrolment
from vle.mail import queue
from vle.mail import services as mail

MAX_SUBJECT = 200
MAX_BODY = 5000
BATCH = 1000  # learners told per transaction by the worker


def may_message(user: Any, course: Course) -> bool:
    """Only the course's own trainers write to its learners."""
    return bool(user.is_authenticated) and any(t.id == user.id for t in course.trainers)


def _learners(course_id: int) -> Select[Any]:
    """The course's enrolled learners (not unenrolled, not erased, active)."""
    return (
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(
            Enrolment.course_id == course_id,
            Enrolment.ended_at.is_(None),
            User.erased_at.is_(None),
            User.active.is_(True),
        )
    )


def learners(
    db_session: Session, course: Course, search: str = "", limit: int | None = None
) -> list[User]:
    """The course's enrolled learners, by name; `search`: only those whose
    name or e-mail holds it (any case); at most `limit`."""
    statement = _learners(course.id)
    if search:
        needle = search.lower()
        statement = statement.where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),  # stored lower-case
            )
        )
    statement = statement.order_by(User.name, User.id)
    if limit is not None:
        statement = statement.limit(limit)
    return list(db_session.scalars(statement))


def learner_count(db_session: Session, course: Course) -> int:
    return (
        db_session.scalar(
            _learners(course.id).with_only_columns(func.count(), maintain_column_froms=True)
        )
        or 0
    )


def send_message(
    db_session: Session,
    sender: User,
    course: Course,
    subject: str,
    body: str,
    user_ids: list[int] | None,
    address: str | None = None,
) -> int:
    """Send the message to the course's learners (`user_ids`: only those;
    None: all): audited here, told by the worker (`tell_learners`) once the
    caller commits. How many it goes to. Someone who is not a learner of the
    course is refused, and nothing is written."""
    if not may_message(sender, course):
        raise Forbidden(_l("Only the course's trainers may write to its learners."))
    subject, body = " ".join(subject.split()), body.strip()
    if not subject or not body:
        raise Invalid(_l("Write a subject and a message."))
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise Invalid(
            _l(
                "A subject has at most %(subject)s characters, a message %(body)s.",
                subject=MAX_SUBJECT,
                body=MAX_BODY,
            )
        )
    if user_ids is None:
        count = learner_count(db_session, course)
    else:
        wanted = sorted(set(user_ids))
        if not wanted:
            raise Invalid(_l("Choose at least one learner."))
        if not all(0 < user_id <= MAX_ID for user_id in wanted):  # no such id: none of theirs
            raise Invalid(_l("Choose learners of this course only."))
        found = set(
            db_session.scalars(
                _learners(course.id).where(User.id.in_(wanted)).with_only_columns(User.id)
            )
        )
        if len(found) != len(wanted):
            raise Invalid(_l("Choose learners of this course only."))
        count = len(wanted)
    audit(
        db_session,
        sender,
        "course.message",
        "course",
        course.id,
        address,
        {
            "course": course.slug,
            "subject": subject,
            # Who, by count only: the audit log keeps no personal data in details.
            "to": "all" if user_ids is None else "chosen",
            "count": count,
        },
        label=course.title,
    )
    db_session.flush()
    if count:
        # One job, queued once the audit entry has committed (never if it
        # rolls back); the learners are those of the course when it runs.
        queue.after_commit(
            db_session,
            tell_learners,
            course.id,
            sender.name,
            subject,
            body,
            None if user_ids is None else sorted(set(user_ids)),
            secrets.token_hex(8),
        )
    return count


@queue.task(retries=3, retry_delay=60)
def tell_learners(
    course_id: int,
    sender_name: str,
    subject: str,
    body: str,
    user_ids: list[int] | None,
    batch: str,
) -> int:
    """The worker's half of `send_message`: notify each learner of the course
    (`user_ids`: only those) of the message, a batch per transaction, each
    mail rendered once per language; how many were told. Each learner's
    notice is keyed by `batch`, so a job run again (a retry after a failed
    batch) tells nobody twice. What each person chose (each mail, the daily
    digest, none) and their unsubscribe link are `mail.notify_many`'s."""
    told, after = 0, 0
    with mail.rendering_once():
        while True:
            with db.transaction() as db_session:
                course = db_session.get(Course, course_id)
                if course is None:
                    return told
                statement = _learners(course_id).where(User.id > after)
                if user_ids is not None:
                    statement = statement.where(User.id.in_(user_ids))
                people = list(db_session.scalars(statement.order_by(User.id).limit(BATCH)))
                if not people:
                    return told
                course_url = mail.external_url("learning.course", slug=course.slug)
                context = {
                    "subject": subject,
                    "body": body,
                    "sender_name": sender_name,
                    "course_title": course.title,
                }
                mail.notify_people(
                    db_session,
                    [(user, None) for user in people],
                    kind="message",
                    context=context,
                    key=f"message:{batch}",
                    url=course_url,
                )
            told += len(people)
            after = people[-1].id
