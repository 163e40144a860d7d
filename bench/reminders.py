"""The daily reminder run over 200,000 enrolments (issue 15, performance: under
60 s): the periodic tasks of a day, run in this process one after the other as
the worker runs them — due-date reminders (`learning.reminders.due_reminders`,
"due soon" and "overdue"), recurring training (`learning.tasks.recurring_training`:
expiry warnings 30 and 7 days before, then re-enrolment of the completions that
expired) and the daily digest (`mail.tasks.send_digests`) — with the wall and
CPU time of each and the mails and notifications each wrote.

    .venv/bin/python bench/reminders.py --database-url sqlite:////tmp/reminders.sqlite3
    createdb -h 127.0.0.1 -U postgres vle_bench_reminders
    .venv/bin/python bench/reminders.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/vle_bench_reminders
    .venv/bin/python bench/reminders.py --database-url sqlite:////tmp/r.sqlite3 \
        --learners 1000 --enrolments 20000          # a quick try

The database must be empty: it is seeded by `bench/seed.py` (10,000 learners,
50 courses, a quarter of them with a 12-month and a quarter with a 24-month
validity, 200,000 enrolments), then given what the daily run looks at, drawn
from one seeded generator relative to the moment of the run:

- the enrolments the seed made by organisation (30 %) are assigned, with a
  due date from 30 days ago to 150 days ahead (one day in six past, one in
  23 within the 7 days of the "due soon" reminder), one date per course and
  organisation as an assignment sets it (`--due-per-enrolment`: a date of its
  own for each);
- each completed enrolment of a course with a validity period expires
  between 3 days ago and the end of its period (one in 12 or 24 within the
  30 days of the first warning; a few already expired, as when the worker
  was stopped for a weekend);
- 5 % of the learners chose the daily digest for due-date mails, 2 % stopped
  the overdue ones.

Nobody was reminded of anything before, so the first run (`first run`) is the
worst day there is: every overdue enrolment is reminded at once (the day the
feature is switched on). `next day` runs the same tasks a day later, as the
daily run would then be. `--seeded DB` skips the seeding and preparing: the
database is a copy of one this script prepared (`--prepare-only`) and that
has not been run on (copy the SQLite file, or `createdb -T`).

The queue is huey's in-memory storage, not immediate: each mail's send task is
queued after its transaction commits, as with Redis, and nothing is sent.
CPU time is this process's; on PostgreSQL the server's own is not included.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for folder in (ROOT, BENCH):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import seed as seeding  # noqa: E402  (bench/seed.py)

ASSIGNED_DUE_DAYS = (-30, 150)  # due dates of assigned enrolments, from today
EXPIRED_DAYS_AGO = 3  # expired completions the run finds (a weekend without a worker)
DIGEST_SHARE, OPT_OUT_SHARE = 0.05, 0.02
BATCH = 5_000


def prepare(
    app: Any, now: datetime, seed_value: int, due_per_enrolment: bool = False
) -> dict[str, int]:
    """Due dates, expiry moments and mail choices relative to `now` (module
    docstring); how many of each it set."""
    from sqlalchemy import bindparam, select, update

    from vle.accounts.models import User
    from vle.catalog.models import Course
    from vle.db import get_database
    from vle.learning.models import Completion, Enrolment, EnrolmentStatus
    from vle.mail.models import MailDigestChoice, MailOptOut

    rng = random.Random(seed_value)
    today = now.date()
    engine = get_database(app).engine
    counts = {"assigned": 0, "with_validity": 0, "digest_choices": 0, "opt_outs": 0}
    with engine.begin() as conn:
        validity = dict(conn.execute(select(Course.id, Course.validity_months)).all())
        assigned = conn.execute(
            select(Enrolment.id, Enrolment.course_id, User.organisation_id)
            .join(User, User.id == Enrolment.user_id)
            .where(Enrolment.method == "organisation")
            .order_by(Enrolment.id)
        ).all()
        # An assignment gives everyone of an organisation one due date.
        group_due: dict[Any, date] = {}
        dues = []
        for row_id, course_id, organisation_id in assigned:
            group = row_id if due_per_enrolment else (course_id, organisation_id)
            if group not in group_due:
                group_due[group] = today + timedelta(days=rng.randint(*ASSIGNED_DUE_DAYS))
            dues.append({"row_id": row_id, "due": group_due[group]})
        set_due = (
            update(Enrolment.__table__)
            .where(Enrolment.__table__.c.id == bindparam("row_id"))
            .values(due=bindparam("due"))
        )
        for chunk in seeding.batches(dues, BATCH):
            conn.execute(set_due, chunk)
        counts["assigned"] = len(dues)

        completed = conn.execute(
            select(Enrolment.id, Enrolment.user_id, Enrolment.course_id)
            .where(Enrolment.status == EnrolmentStatus.COMPLETED)
            .order_by(Enrolment.id)
        ).all()
        expiries = []
        for row_id, user_id, course_id in completed:
            months = validity.get(course_id)
            if not months:
                continue
            ahead = rng.uniform(-EXPIRED_DAYS_AGO, 30 * months) * 86_400
            expiries.append(
                {
                    "row_id": row_id,
                    "user": user_id,
                    "course": course_id,
                    "expires": now + timedelta(seconds=ahead),
                }
            )
        enrolments, completions = Enrolment.__table__, Completion.__table__
        set_expiry = (
            update(enrolments)
            .where(enrolments.c.id == bindparam("row_id"))
            .values(expires_at=bindparam("expires"))
        )
        set_completion = (
            update(completions)
            .where(
                completions.c.user_id == bindparam("user"),
                completions.c.course_id == bindparam("course"),
            )
            .values(expires_at=bindparam("expires"))
        )
        for chunk in seeding.batches(expiries, BATCH):
            conn.execute(set_expiry, chunk)
            conn.execute(set_completion, chunk)
        counts["with_validity"] = len(expiries)

        learners = conn.execute(
            select(Enrolment.user_id).distinct().order_by(Enrolment.user_id)
        ).scalars()
        choices, opt_outs = [], []
        for user_id in learners:
            address = seeding.EMAIL_FORMAT.format(user_id)
            roll = rng.random()
            if roll < DIGEST_SHARE:
                choices += [
                    {"address": address, "kind": kind, "created_at": now}
                    for kind in ("due_soon", "overdue")
                ]
            elif roll < DIGEST_SHARE + OPT_OUT_SHARE:
                opt_outs.append({"address": address, "kind": "overdue", "created_at": now})
        if choices:
            conn.execute(MailDigestChoice.__table__.insert(), choices)
        if opt_outs:
            conn.execute(MailOptOut.__table__.insert(), opt_outs)
        counts["digest_choices"], counts["opt_outs"] = len(choices), len(opt_outs)
    seeding.analyze(engine)
    return counts


def tallies(app: Any) -> dict[str, dict[str, int]]:
    """Outbox mails and notifications so far, by kind."""
    from sqlalchemy import func, select

    from vle.db import get_database
    from vle.mail.models import Notification, OutboxMail

    with get_database(app).engine.connect() as conn:
        return {
            "mails": dict(
                conn.execute(select(OutboxMail.kind, func.count()).group_by(OutboxMail.kind)).all()
            ),
            "notifications": dict(
                conn.execute(
                    select(Notification.kind, func.count()).group_by(Notification.kind)
                ).all()
            ),
        }


def daily_run(app: Any, now: datetime | None) -> dict[str, Any]:
    """The day's periodic tasks, each as the worker runs it; `now` None: the
    tasks' own clock (the first run), else that moment (the next day)."""
    from vle.learning import reminders, tasks
    from vle.mail import tasks as mail_tasks

    def due() -> Any:
        if now is None:
            return reminders.due_reminders.call_local()
        with app.app_context():
            return reminders.send_due_reminders(now.date())

    def recurring() -> Any:
        if now is None:
            return tasks.recurring_training.call_local()
        with app.app_context():
            return tasks.run_recurring_training(now)

    phases: dict[str, Any] = {}
    total_wall, total_cpu = time.perf_counter(), time.process_time()
    for name, run in (
        ("due_reminders", due),
        ("recurring_training", recurring),
        ("digest", mail_tasks.send_digests.call_local),
    ):
        before = tallies(app)
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = tallies(app)
        mails = sum(after["mails"].values()) - sum(before["mails"].values())
        notes = sum(after["notifications"].values()) - sum(before["notifications"].values())
        phases[name] = {
            "result": result,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "mails": mails,
            "notifications": notes,
        }
        print(
            f"  {name:<20} {wall:7.1f} s wall {cpu:7.1f} s CPU  "
            f"{mails:>7,} mails {notes:>7,} notifications  ({result})",
            flush=True,
        )
    wall, cpu = time.perf_counter() - total_wall, time.process_time() - total_cpu
    mails = sum(phase["mails"] for phase in phases.values())
    notes = sum(phase["notifications"] for phase in phases.values())
    print(
        f"  {'the whole run':<20} {wall:7.1f} s wall {cpu:7.1f} s CPU  "
        f"{mails:>7,} mails {notes:>7,} notifications",
        flush=True,
    )
    return {
        "phases": phases,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "mails": mails,
        "notifications": notes,
        "cpu_ms_per_notification": round(1000 * cpu / notes, 2) if notes else None,
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("VLE_DATABASE_URL"))
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--enrolments", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261206, help="random seed")
    parser.add_argument("--seeded", action="store_true", help="the database is prepared already")
    parser.add_argument(
        "--due-per-enrolment",
        action="store_true",
        help="a due date of its own for each assigned enrolment (not one per organisation)",
    )
    parser.add_argument("--prepare-only", action="store_true", help="seed and prepare, no run")
    parser.add_argument("--no-next-day", action="store_true", help="the first run only")
    parser.add_argument("--profile", default=None, help="cProfile the first run into this file")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    if not args.database_url:
        raise SystemExit("--database-url (or VLE_DATABASE_URL): an empty database to seed")

    from sqlalchemy import func, select

    from vle import create_app
    from vle.db import get_database
    from vle.learning.models import Enrolment

    figures: dict[str, Any] = {"database": args.database_url.split(":")[0]}
    if not args.seeded:
        seeding.seed(
            args.database_url, args.learners, args.courses, args.enrolments, args.seed, 20_000
        )
    app = create_app(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": "bench",
            "QUEUE_URL": "memory://",
            "QUEUE_IMMEDIATE": False,
        }
    )
    now = datetime.now(UTC)
    if not args.seeded:
        start = time.perf_counter()
        figures["prepared"] = prepare(app, now, args.seed, args.due_per_enrolment)
        print(f"Prepared in {time.perf_counter() - start:.1f} s: {figures['prepared']}")
    if args.prepare_only:
        return
    with get_database(app).engine.connect() as conn:
        figures["enrolments"] = conn.scalar(select(func.count()).select_from(Enrolment))

    print(f"First run ({figures['enrolments']:,} enrolments):", flush=True)
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    figures["first_run"] = daily_run(app, None)
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)
    if not args.no_next_day:
        print("Next day:", flush=True)
        figures["next_day"] = daily_run(app, datetime.now(UTC) + timedelta(days=1))
    figures["outbox"] = tallies(app)
    figures["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(figures, indent=2, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    get_database(app).engine.dispose()


if __name__ == "__main__":
    main()
