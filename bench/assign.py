"""Assigning a course to an organisation subtree of 20,000 people (issue 15,
performance): how long the request takes (it only records the assignment and
queues the task) and how long the background task takes to enrol everyone,
with one audit entry and one outbox mail per person.

    VLE_DATABASE_URL=sqlite:////tmp/assign.sqlite3 .venv/bin/python bench/seed.py \
        --learners 20000 --enrolments 100000
    .venv/bin/python bench/assign.py --database-url sqlite:////tmp/assign.sqlite3

The course chosen is the seed's most enrolled one (its learners are already
enrolled: they are held by the assignment without a second enrolment); the
task runs in this process as the worker would run it (`call_local`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

# The vle next to this script (an exported tree measures its own code).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--organisation", default="BENCH")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()

    from vle import create_app, db
    from vle.accounts.models import Organisation, User
    from vle.catalog.models import Course
    from vle.learning import assignments, tasks
    from vle.learning.models import Assignment, AssignmentMember, Enrolment
    from vle.mail.models import OutboxMail

    app = create_app(
        {"DATABASE_URL": args.database_url, "SECRET_KEY": "bench", "QUEUE_URL": "memory://"}
    )
    with app.app_context():
        session = db.session()
        organisation = session.scalar(
            select(Organisation).where(Organisation.code == args.organisation)
        )
        assert organisation is not None, "seed the database first (bench/seed.py)"
        course_id = session.scalar(
            select(Enrolment.course_id)
            .group_by(Enrolment.course_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        course = session.get(Course, course_id)
        people = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.organisation_id.in_(
                select(Organisation.id).where(Organisation.path.startswith(organisation.path))
            ), User.role == "learner")
        )  # fmt: skip
        enrolled_before = session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.course_id == course_id)
        )
        session.commit()

        start = time.perf_counter()
        with db.transaction() as write_session:
            assignment = assignments.assign_organisation(
                write_session, None, course, organisation, "learner"
            )
            assignment_id = assignment.id
        request_s = time.perf_counter() - start

        # The task as the worker runs it, in its two phases: everyone enrolled
        # (the assignment "done"), then everyone told by mail (the outbox).
        start, cpu = time.perf_counter(), time.process_time()
        with app.app_context():
            with db.transaction() as write_session:
                assignments.set_status(write_session, assignment_id, "running")
            tasks._batches(assignments.fill_assignment, assignment_id)
            with db.transaction() as write_session:
                assignments.set_status(write_session, assignment_id, "done")
        enrol_s, enrol_cpu_s = time.perf_counter() - start, time.process_time() - cpu
        with app.app_context():
            tasks._tell_everyone(assignment_id)
        task_s = time.perf_counter() - start
        task_cpu_s = time.process_time() - cpu

        session = db.session()
        session.commit()
        session.expire_all()
        done = session.get(Assignment, assignment_id)
        figures = {
            "database": args.database_url.split(":")[0],
            "people": people,
            "enrolled_before": enrolled_before,
            "status": done.status if done else None,
            "assigned": done.assigned if done else None,
            "members": session.scalar(
                select(func.count())
                .select_from(AssignmentMember)
                .where(AssignmentMember.assignment_id == assignment_id)
            ),
            "enrolled_after": session.scalar(
                select(func.count()).select_from(Enrolment).where(Enrolment.course_id == course_id)
            ),
            "outbox_mails": session.scalar(select(func.count()).select_from(OutboxMail)),
            "request_s": round(request_s, 3),
            "enrolled_s": round(enrol_s, 1),
            "enrolled_cpu_s": round(enrol_cpu_s, 1),
            "task_s": round(task_s, 1),
            # This process's CPU time: the figure a busy machine does not inflate.
            "task_cpu_s": round(task_cpu_s, 1),
        }
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)


if __name__ == "__main__":
    main()
