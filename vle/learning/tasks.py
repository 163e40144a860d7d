"""Background work of assigned training: filling an organisation assignment batch
by batch (each batch its own transaction, so its progress shows), and, every
minute, enrolling the people who joined an assigned subtree since (and finishing
any assignment whose task was lost)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from vle import db
from vle.learning import assignments, expiry, reminders  # noqa: F401 (its periodic task)
from vle.learning.models import Assignment, AssignmentStatus
from vle.mail import services as mail
from vle.mail.queue import crontab, periodic_task, task

logger = logging.getLogger(__name__)

# Steps of higher floors whose organisation assignments hold newcomers too (learning
# plans: competencies registers one with `also_for_newcomers`). Each runs its own
# transactions and returns how many people it held.
NEWCOMER_STEPS: list[Callable[[], int]] = []


def also_for_newcomers(step: Callable[[], int]) -> None:
    """Run `step` every minute with the course assignments' newcomers (once per step)."""
    if step not in NEWCOMER_STEPS:
        NEWCOMER_STEPS.append(step)


def _batches(step: Callable[[Session, Assignment], int], assignment_id: int) -> int:
    """`step` in a transaction of its own, again and again until it does nothing;
    how many it did in all."""
    done = 0
    while True:
        with db.transaction() as db_session:
            assignment = db_session.get(Assignment, assignment_id)
            n = step(db_session, assignment) if assignment is not None else 0
        if not n:
            return done
        done += n


def _tell_everyone(assignment_id: int) -> int:
    """Tell everyone the assignment holds and has not told, a batch per
    transaction; the mail rendered once per language for all the batches."""
    with mail.rendering_once():
        return _batches(assignments.tell, assignment_id)


def _fill(assignment_id: int) -> int:
    """Enrol everyone the assignment should hold, then tell them by mail; how
    many it enrolled."""
    added = _batches(assignments.fill_assignment, assignment_id)
    _tell_everyone(assignment_id)
    return added


@task(retries=3, retry_delay=30)
def fill_assignment(assignment_id: int) -> None:
    """Queued by the page, the API and the command line once an assignment is
    committed: enrol everyone of an organisation assignment's subtree (its
    progress on the assignment: running, then done once all are enrolled),
    then mail everyone it holds and has not told (people assignments too)."""
    with db.transaction() as db_session:
        assignment = db_session.get(Assignment, assignment_id)
        if assignment is None:
            return
        if assignment.status != AssignmentStatus.DONE:
            assignment.status = AssignmentStatus.RUNNING
    _batches(assignments.fill_assignment, assignment_id)
    with db.transaction() as db_session:
        assignments.set_status(db_session, assignment_id, AssignmentStatus.DONE)
    _tell_everyone(assignment_id)


def queue_fill(assignment_id: int) -> None:
    """Queue `fill_assignment` once the assignment is committed. A queue that
    cannot take it now (Redis down) does not fail the request that made the
    assignment: `hold_newcomers` finishes it a few minutes later."""
    try:
        fill_assignment(assignment_id)
    except Exception:  # the storage's own errors: redis, sqlite3
        logger.warning("assignment %s not queued; the periodic task will finish it",
                       assignment_id, exc_info=True)  # fmt: skip


@periodic_task(crontab(minute="*"))
def hold_newcomers() -> int:
    """Every minute: people who joined an assigned subtree are enrolled too, and
    an assignment whose task was lost is finished; then the registered steps of
    higher floors (`NEWCOMER_STEPS`). How many people it enrolled or held."""
    with db.transaction() as db_session:
        ids = assignments.open_to_newcomers(db_session)
        lost = assignments.stalled(db_session)
    for assignment_id in lost:
        fill_assignment.call_local(assignment_id)
    held = sum(_fill(assignment_id) for assignment_id in ids)
    return held + sum(step() for step in NEWCOMER_STEPS)


@periodic_task(crontab(hour="5", minute="30"))
def recurring_training() -> tuple[int, int]:
    """Every day: remind learners whose completion expires soon
    (`VLE_EXPIRY_REMINDER_DAYS`), then start over the enrolments whose
    completion has expired. Idempotent (learning/expiry.py). How many
    reminders it queued and enrolments it started over."""
    return run_recurring_training()


def run_recurring_training(now: datetime | None = None) -> tuple[int, int]:
    """`recurring_training` as of `now` (default: now; bench/reminders.py
    runs the next day's)."""
    days = expiry.reminder_days(current_app.config.get("EXPIRY_REMINDER_DAYS"))
    with db.transaction() as db_session:
        reminded = expiry.send_reminders(db_session, days, now)
    with db.transaction() as db_session:
        expired = expiry.expire_completions(db_session, now)
    return len(reminded), len(expired)
