"""Recurring mandatory training: a completion of a course with a validity
period (`Course.validity_months`) expires; the learner is reminded before
(`VLE_EXPIRY_REMINDER_DAYS`, default 30 and 7 days) and, on expiry, the
enrolment starts over.

How a new round keeps the history: every `Completion` row stays (one per
round, each with its own certificate); the item progress of the round that
expired is copied into `item_progress_rounds`, tagged with that round's
completion, and then deleted from `item_progress`, so every page and query
that reads a learner's progress sees the new round empty without knowing
about rounds. The enrolment row keeps its id, `enrolled_at` and `due`; it
takes the status `expired` (progress 0, `completed_at` None) with
`expires_at` still saying when the last completion ran out, until the
learner opens the course again (`in_progress`) and completes it (a new
`Completion`, a new `expires_at`).

Both the reminders and the expiry run in the daily task (learning/tasks.py)
and may run again at any time: a reminder has a key per enrolment, expiry
moment and threshold (so each is sent at most once per completion), and an
enrolment expires once (its status is no longer `completed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, literal, select
from sqlalchemy.orm import Session, joinedload

from vle.catalog.models import Course, Item, Module
from vle.db import utcnow
from vle.learning.kinds import KINDS
from vle.learning.models import (
    Completion,
    Enrolment,
    EnrolmentStatus,
    ItemProgress,
    ItemProgressRound,
)
from vle.mail import services as mail

# The mail module may name these kinds itself (its Notifications page lists them).
mail.KIND_LABELS.setdefault("completion_expiring", _l("completions about to expire"))
mail.KIND_LABELS.setdefault("completion_expired", _l("completions that have expired"))

DEFAULT_REMINDER_DAYS = (30, 7)
NOTIFY_BATCH = 500  # notifications written at once


def reminder_days(setting: Any) -> tuple[int, ...]:
    """`VLE_EXPIRY_REMINDER_DAYS` ("30,7", or a list of numbers) as days,
    largest first; an empty setting sends no reminders."""
    if setting is None:
        return DEFAULT_REMINDER_DAYS
    parts = setting.split(",") if isinstance(setting, str) else list(setting)
    days = {int(str(part).strip()) for part in parts if str(part).strip()}
    if any(day <= 0 for day in days):
        raise ValueError(f"VLE_EXPIRY_REMINDER_DAYS: days must be positive: {setting!r}")
    return tuple(sorted(days, reverse=True))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


@dataclass(frozen=True)
class Reminder:
    enrolment_id: int
    days: int
    key: str


def send_reminders(
    db_session: Session, days: Sequence[int], now: datetime | None = None
) -> list[Reminder]:
    """Remind every learner whose completion expires within one of `days`:
    for each completion the smallest threshold it has reached, once (a
    completion first seen 5 days before its expiry gets the 7-day reminder
    only). Enrolments that were ended are not reminded. What it queued."""
    if not days:
        return []
    now = now or utcnow()
    rows = db_session.scalars(
        select(Enrolment)
        .where(
            Enrolment.status == EnrolmentStatus.COMPLETED,
            Enrolment.ended_at.is_(None),
            Enrolment.expires_at > now,
            Enrolment.expires_at <= now + timedelta(days=max(days)),
        )
        .options(joinedload(Enrolment.user), joinedload(Enrolment.course))
        .order_by(Enrolment.expires_at, Enrolment.id)
    )
    sent, notices = [], []
    for enrolment in rows:
        assert enrolment.expires_at is not None
        left = enrolment.expires_at - now
        threshold = min(day for day in days if left <= timedelta(days=day))
        key = f"completion_expiring:{enrolment.id}:{_stamp(enrolment.expires_at)}:{threshold}"
        user, course = enrolment.user, enrolment.course
        notices.append(
            mail.Notice(
                user_id=user.id,
                to_address=user.email,
                to_name=user.name,
                locale=user.locale,
                kind="completion_expiring",
                context={
                    "course_title": course.title,
                    "course_url": mail.external_url("learning.course", slug=course.slug),
                    "expires_at": enrolment.expires_at,
                    "days": threshold,
                },
                key=key,
                url=f"/courses/{course.slug}",
            )
        )
        sent.append(Reminder(enrolment.id, threshold, key))
        if len(notices) >= NOTIFY_BATCH:
            mail.notify_many(db_session, notices)
            notices = []
    mail.notify_many(db_session, notices)
    return sent


def expire_completions(db_session: Session, now: datetime | None = None) -> list[int]:
    """Start over every enrolment whose completion has expired: its item
    progress moved to `item_progress_rounds` (under the expired completion),
    status `expired`, progress 0; the learner is told (once per completion).
    The ids of the enrolments it started over."""
    now = now or utcnow()
    enrolments = list(
        db_session.scalars(
            select(Enrolment)
            .where(Enrolment.status == EnrolmentStatus.COMPLETED, Enrolment.expires_at <= now)
            .options(joinedload(Enrolment.user), joinedload(Enrolment.course))
            .order_by(Enrolment.expires_at, Enrolment.id)
            .with_for_update(of=Enrolment)
        )
    )
    notices = []
    for enrolment in enrolments:
        start_over(db_session, enrolment)
        if enrolment.ended_at is None:
            user, course = enrolment.user, enrolment.course
            assert enrolment.expires_at is not None
            notices.append(
                mail.Notice(
                    user_id=user.id,
                    to_address=user.email,
                    to_name=user.name,
                    locale=user.locale,
                    kind="completion_expired",
                    context={
                        "course_title": course.title,
                        "course_url": mail.external_url("learning.course", slug=course.slug),
                        "expires_at": enrolment.expires_at,
                    },
                    key=f"completion_expired:{enrolment.id}:{_stamp(enrolment.expires_at)}",
                    url=f"/courses/{course.slug}",
                )
            )
    mail.notify_many(db_session, notices)
    db_session.flush()
    return [enrolment.id for enrolment in enrolments]


def start_over(db_session: Session, enrolment: Enrolment) -> None:
    """A new round for an enrolment whose completion expired (module docstring)."""
    completion_id = db_session.scalar(
        select(Completion.id)
        .where(Completion.user_id == enrolment.user_id, Completion.course_id == enrolment.course_id)
        .order_by(Completion.completed_at.desc(), Completion.id.desc())
        .limit(1)
    )
    in_course = (
        select(Item.id)
        .join(Module, Module.id == Item.module_id)
        .where(Module.course_id == enrolment.course_id)
    )
    if completion_id is not None:
        db_session.execute(
            insert(ItemProgressRound).from_select(
                ["completion_id", "user_id", "item_id", "viewed_at", "completed_at", "passed"],
                select(
                    literal(completion_id),
                    ItemProgress.user_id,
                    ItemProgress.item_id,
                    ItemProgress.viewed_at,
                    ItemProgress.completed_at,
                    ItemProgress.passed,
                ).where(
                    ItemProgress.user_id == enrolment.user_id,
                    ItemProgress.item_id.in_(in_course),
                ),
            )
        )
    db_session.execute(
        delete(ItemProgress)
        .where(ItemProgress.user_id == enrolment.user_id, ItemProgress.item_id.in_(in_course))
        .execution_options(synchronize_session=False)
    )
    for kind in KINDS.values():  # quizzes: the old round's attempts stop counting
        kind.new_round(db_session, enrolment.user_id, in_course, utcnow())
    enrolment.status = EnrolmentStatus.EXPIRED
    enrolment.progress = 0
    enrolment.completed_at = None


def rounds_of(db_session: Session, user_id: int, course: Course) -> list[Completion]:
    """Every completion of the course by the learner, oldest first."""
    return list(
        db_session.scalars(
            select(Completion)
            .where(Completion.user_id == user_id, Completion.course_id == course.id)
            .order_by(Completion.completed_at, Completion.id)
        )
    )
