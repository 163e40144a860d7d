"""A trainer's message to the learners of a course (issue 15, point 6): to all
of them or to those chosen, each told on My learning and by mail (the
`message` notification kind, which each person may stop or get in the
daily digest). Audited."""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from vle.accounts.models import User
from vle.audit import audit
from vle.catalog.models import Course
from vle.errors import Forbidden, Invalid
from vle.learning.models import Enrolment
from vle.mail import services as mail

MAX_SUBJECT = 200
MAX_BODY = 5000


def may_message(user: Any, course: Course) -> bool:
    """Only the course's own trainers write to its learners."""
    return bool(user.is_authenticated) and any(t.id == user.id for t in course.trainers)


def learners(db_session: Session, course: Course) -> list[User]:
    """The course's enrolled learners (not unenrolled, not erased), by name."""
    return list(
        db_session.scalars(
            select(User)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(
                Enrolment.course_id == course.id,
                Enrolment.ended_at.is_(None),
                User.erased_at.is_(None),
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        )
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
    """Notify the course's learners (`user_ids`: only those; None: all) of the
    message; how many. Someone who is not a learner of it is refused."""
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
    everyone = learners(db_session, course)
    if user_ids is None:
        chosen = everyone
    else:
        wanted = set(user_ids)
        chosen = [user for user in everyone if user.id in wanted]
        if len(chosen) != len(wanted):
            raise Invalid(_l("Choose learners of this course only."))
        if not chosen:
            raise Invalid(_l("Choose at least one learner."))
    batch = secrets.token_hex(8)
    course_url = mail.external_url("learning.course", slug=course.slug)
    for user in chosen:
        mail.notify(
            db_session,
            user_id=user.id,
            to_address=user.email,
            to_name=user.name,
            locale=user.locale,
            kind="message",
            context={
                "subject": subject,
                "body": body,
                "sender_name": sender.name,
                "course_title": course.title,
            },
            key=f"message:{batch}:{user.id}",
            url=course_url,
        )
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
            "count": len(chosen),
        },
        label=course.title,
    )
    db_session.flush()
    return len(chosen)
