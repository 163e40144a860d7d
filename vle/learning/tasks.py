"""Background work of assigned training: filling an organisation assignment batch
by batch (each batch its own transaction, so its progress shows), and, every
minute, enrolling the people who joined an assigned subtree since."""

from __future__ import annotations

from vle import db
from vle.learning import assignments
from vle.learning.models import Assignment, AssignmentStatus
from vle.mail.queue import crontab, periodic_task, task


def _fill(assignment_id: int) -> int:
    """Batches until the assignment holds everyone it should; how many it added."""
    added = 0
    while True:
        with db.transaction() as db_session:
            assignment = db_session.get(Assignment, assignment_id)
            if assignment is None:
                return added
            n = assignments.fill_assignment(db_session, assignment)
        if not n:
            return added
        added += n


@task(retries=3, retry_delay=30)
def fill_assignment(assignment_id: int) -> None:
    """Enrol everyone of an organisation assignment's subtree (queued by the
    page, the API and the command line once the assignment is committed)."""
    with db.transaction() as db_session:
        if assignments.set_status(db_session, assignment_id, AssignmentStatus.RUNNING) is None:
            return
    _fill(assignment_id)
    with db.transaction() as db_session:
        assignments.set_status(db_session, assignment_id, AssignmentStatus.DONE)


@periodic_task(crontab(minute="*"))
def hold_newcomers() -> int:
    """Every minute: people who joined an assigned subtree are enrolled too."""
    with db.transaction() as db_session:
        ids = assignments.open_to_newcomers(db_session)
    return sum(_fill(assignment_id) for assignment_id in ids)
