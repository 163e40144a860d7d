"""Notifications of quizzes: "essay graded" to the learner once a trainer has
marked every essay answer of an attempt (vle.mail.services.notify)."""

from __future__ import annotations

from datetime import datetime

from flask import has_app_context
from sqlalchemy.orm import Session

from vle.catalog.models import Course, Item
from vle.mail import services as mail
from vle.quizzes.models import Attempt, AttemptState


def essay_graded(
    db_session: Session, attempt: Attempt, item: Item, course: Course, now: datetime
) -> None:
    """Tell the learner their attempt is graded (a regrade is told again). Only
    within the app (a page, the worker, the CLI): mails need its settings and
    templates; a service called outside it (a service test) tells nobody."""
    if attempt.state != AttemptState.GRADED or not has_app_context():
        return
    learner = attempt.user
    result_url = mail.external_url(
        "quizzes.result", slug=course.slug, item_id=item.id, attempt_id=attempt.id
    )
    mail.notify(
        db_session,
        user_id=learner.id,
        to_address=learner.email,
        to_name=learner.name,
        locale=learner.locale,
        kind="essay_graded",
        context={"quiz_title": item.title, "course_title": course.title, "result_url": result_url},
        key=f"essay_graded:{attempt.id}:{now.isoformat()}",
        url=result_url,
    )
