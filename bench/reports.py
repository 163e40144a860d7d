"""Completion-report benchmark: seed a network of 100,000 learners, 200 courses and
1,000,000 enrolments, then time the Reports page and the full exports.

    # SQLite (a file; delete it to seed again)
    VLE_DATABASE_URL=sqlite:////tmp/vle-reports.sqlite3 .venv/bin/python bench/reports.py all
    # PostgreSQL (an empty database)
    createdb -h 127.0.0.1 -U postgres vle_reports
    VLE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vle_reports \\
        .venv/bin/python bench/reports.py all

`seed` fills an empty database (schema by the migrations, rows with SQLAlchemy
Core executemany in large batches, generated batch by batch so that the seeder's
own memory stays small); `measure` times the pages and the exports; `all` does
both. Every measurement runs in a fresh Python process that serves the request
through the Flask app (the test client, no network in between) and reads the
response as a client would, chunk by chunk, discarding it; its peak resident
memory (getrusage ru_maxrss: app, SQLAlchemy, the SQLite library when in use and
the response pipeline) is the "serving process" figure.

Targets (issue 4): first page of the whole-network report < 500 ms; full CSV
export of 1,000,000 rows < 30 s with peak memory < 200 MB; on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Run from bench/, as seed.py is: its finishing steps are the same here.
from seed import advance_sequences, analyze  # noqa: E402

ADMIN_EMAIL = "report-admin@bench.example.org"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
FIRST = ("Aistė", "Jonas", "Rūta", "Mindaugas", "Eglė", "Agnieszka", "Piotr", "Paweł",
         "Małgorzata", "Ingrid", "Lars", "Sigrid", "Øyvind", "Laura", "Žilvinas", "Ieva")  # fmt: skip
LAST = ("Kazlauskienė", "Petrauskas", "Žukauskienė", "Nowak", "Wiśniewski", "Wójcik",
        "Hansen", "Johansen", "Berg", "Stankevičius", "Kamińska", "Dahl", "Ødegård")  # fmt: skip
SUBSIDIARIES = ("school", "gymnasium", "library", "care home", "kindergarten", "culture centre")


def _app(url: str) -> Any:
    from vle import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-reports"}, env="development")


def rss_mb() -> float:
    """Resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    """CPU time this process has used (user + system): on a busy machine, what the
    work costs whatever else is running."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# --- seeding -------------------------------------------------------------------------------


def seed(
    url: str, learners: int, courses: int, enrolments: int, batch: int, seed_value: int
) -> None:
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from vle.db import Base, get_database
    from vle.migrations import upgrade

    if enrolments > learners * courses // 2:
        raise SystemExit("too many enrolments for the learners and courses")
    rng = random.Random(seed_value)
    app = _app(url)
    started = time.perf_counter()
    upgrade(app)
    engine = get_database(app).engine
    tables = Base.metadata.tables
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(tables["users"])):
            raise SystemExit("the database already has users: seed an empty database")
    print(f"Seeding {engine.url.render_as_string(hide_password=True)}", flush=True)

    def insert(conn: Any, name: str, rows: Iterator[dict[str, Any]]) -> int:
        lap, count, chunk = time.perf_counter(), 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                conn.execute(tables[name].insert(), chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            conn.execute(tables[name].insert(), chunk)
            count += len(chunk)
        spent = time.perf_counter() - lap
        print(f"  {count:>10,} {name:<16} {spent:7.1f} s ({count / max(spent, 1e-9):,.0f}/s)",
              flush=True)  # fmt: skip
        return count

    with engine.begin() as conn:
        # A network root; 30 municipalities, each with six subsidiaries; a second partner.
        orgs = [{"id": 1, "code": "NET", "name": "Bench network", "kind": "network",
                 "parent_id": None, "path": "/1/"}]  # fmt: skip
        for m in range(1, 31):
            mid = len(orgs) + 1
            orgs.append({"id": mid, "code": f"M{m:02d}", "name": f"Municipality {m}",
                         "kind": "municipality", "parent_id": 1, "path": f"/1/{mid}/"})  # fmt: skip
            for s, kind in enumerate(SUBSIDIARIES, start=1):
                sid = len(orgs) + 1
                orgs.append({"id": sid, "code": f"M{m:02d}-S{s}", "name": f"Municipality {m} {kind}",
                             "kind": kind, "parent_id": mid, "path": f"/1/{mid}/{sid}/"})  # fmt: skip
        partner = len(orgs) + 1
        orgs.append({"id": partner, "code": "PARTNER", "name": "Partner network", "kind": "network",
                     "parent_id": None, "path": f"/{partner}/"})  # fmt: skip
        for row in orgs:
            row["created_at"] = NOW - timedelta(days=800)
        insert(conn, "organisations", iter(orgs))
        org_ids = [o["id"] for o in orgs if o["kind"] != "network"] + [partner]

        password = generate_password_hash("bench-reports-password")

        def users() -> Iterator[dict[str, Any]]:
            for n in range(1, learners + 1):
                yield {"id": n, "email": f"learner{n:06d}@bench.example.org",
                       "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "password_hash": "",
                       "role": "learner", "organisation_id": rng.choice(org_ids),
                       "network": False, "locale": None, "timezone": None, "active": True,
                       "created_at": NOW - timedelta(days=700)}  # fmt: skip
            yield {"id": learners + 1, "email": ADMIN_EMAIL, "name": "Report Admin",
                   "password_hash": password, "role": "admin", "organisation_id": 1,
                   "network": True, "locale": "en", "timezone": "UTC", "active": True,
                   "created_at": NOW - timedelta(days=700)}  # fmt: skip

        insert(conn, "users", users())

        course_rows, module_rows, item_rows, quiz_of = [], [], [], {}
        for c in range(1, courses + 1):
            course_rows.append({
                "id": c, "slug": f"report-bench-{c:03d}", "title": f"Bench course {c:03d}",
                "summary": "", "language": rng.choice(("en", "lt", "pl", "nb")),
                "status": "published", "enrolment_key": None, "starts": None, "ends": None,
                "validity_months": None, "competencies": [f"C{c:03d}-1", f"C{c:03d}-2"],
                "completion_rule": "all_required", "created_at": NOW - timedelta(days=750),
                "updated_at": NOW - timedelta(days=750),
            })  # fmt: skip
            module_rows.append({"id": c, "course_id": c, "slug": "module", "position": 1,
                                "title": "Module", "prefix": "01"})  # fmt: skip
            for i, kind in enumerate(("lesson", "lesson", "quiz"), start=1):
                item_id = len(item_rows) + 1
                item_rows.append({"id": item_id, "module_id": c, "slug": f"item-{i}",
                                  "position": i, "prefix": f"{i:02d}", "kind": kind,
                                  "title": f"Item {i}", "required": True, "minutes": 5,
                                  "body_html": "", "source": "", "settings": {}})  # fmt: skip
                if kind == "quiz":
                    quiz_of[c] = item_id
        insert(conn, "courses", iter(course_rows))
        insert(conn, "modules", iter(module_rows))
        insert(conn, "items", iter(item_rows))

        completions: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        span = 730 * 24 * 60  # two years, in minutes

        def enrolment_rows() -> Iterator[dict[str, Any]]:
            # Made in time order, as vle makes them (an enrolment is stamped when it is
            # inserted, so ids and enrolment times rise together); learner and course
            # drawn at random, each pair at most once.
            taken: set[int] = set()
            step = span / enrolments
            for number in range(enrolments):
                while True:
                    learner, course = rng.randint(1, learners), rng.randint(1, courses)
                    if (key := learner * (courses + 1) + course) not in taken:
                        taken.add(key)
                        break
                enrolled = NOW - timedelta(minutes=span - number * step)
                roll = rng.random()
                completed_at = None
                if roll < 0.25:
                    status, progress = "not_started", 0
                elif roll < 0.6:
                    status, progress = "in_progress", rng.choice((33, 66))
                else:
                    status, progress = "completed", 100
                    completed_at = min(
                        NOW, enrolled + timedelta(minutes=rng.randrange(90 * 24 * 60))
                    )
                    completions.append({"user_id": learner, "course_id": course,
                                        "completed_at": completed_at, "expires_at": None})  # fmt: skip
                if status != "not_started" and rng.random() < 0.5:
                    attempts.append({"item_id": quiz_of[course], "user_id": learner,
                                     "number": 1, "state": "graded",
                                     "started_at": enrolled, "deadline": None,
                                     "submitted_at": enrolled, "graded_at": enrolled,
                                     "score": float(rng.randint(20, 100)),
                                     "passed": None, "question_ids": [],
                                     "choice_order": {}})  # fmt: skip
                yield {"user_id": learner, "course_id": course, "status": status,
                       "progress": progress, "method": "self", "enrolled_at": enrolled,
                       "completed_at": completed_at}  # fmt: skip
                # Flush the side tables now and then, so that they never pile up.
                if len(completions) >= batch:
                    conn.execute(tables["completions"].insert(), completions)
                    completions.clear()
                if len(attempts) >= batch:
                    conn.execute(tables["quiz_attempts"].insert(), attempts)
                    attempts.clear()

        insert(conn, "enrolments", enrolment_rows())
        if completions:
            conn.execute(tables["completions"].insert(), completions)
        if attempts:
            conn.execute(tables["quiz_attempts"].insert(), attempts)
        advance_sequences(conn)
    analyze(engine, vacuum=True)
    with engine.connect() as conn:
        counts = {name: conn.scalar(select(func.count()).select_from(tables[name]))
                  for name in ("users", "courses", "enrolments", "completions", "quiz_attempts")}  # fmt: skip
    engine.dispose()
    print(f"Seeded in {time.perf_counter() - started:.0f} s: {counts}", flush=True)


# --- measuring (each in a fresh process) ---------------------------------------------------


def _client(url: str) -> Any:
    from sqlalchemy import select

    from vle import db
    from vle.accounts.models import User

    app = _app(url)
    with app.app_context():
        admin_id = db.session().scalar(select(User.id).where(User.email == ADMIN_EMAIL))
    if admin_id is None:
        raise SystemExit("no bench admin: run `bench/reports.py seed` first")
    client = app.test_client()
    # Signed in through the login form: sessions are held on the server (issue 14).
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on /login"
    response = client.post(
        "/login",
        data={"email": ADMIN_EMAIL, "password": "bench-reports-password",
              "csrf_token": token.group(1)},
    )  # fmt: skip
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in as {ADMIN_EMAIL}: {response.status_code}")
    return client


def measure_pages(url: str, runs: int) -> dict[str, Any]:
    client = _client(url)
    pages = {
        "first page, whole network": "/reports",
        "first page, one municipality": "/reports?organisation=M07",
        "first page, one course": "/reports?course=report-bench-042",
        "first page, completed in 2025": "/reports?status=completed&since=2025-01-01&until=2025-12-31",
        "first page, overdue": "/reports?status=overdue",
        "first page, sorted by learner": "/reports?sort=learner",
        "page 400 (rows 9,976-10,000)": "/reports?page=400",
        "dashboard, whole network": "/reports/dashboard",
    }
    results = {}
    for name, path in pages.items():
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            body = response.get_data()
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 and not path.startswith("/api/"):
                raise SystemExit(f"{path}: {response.status_code}")
        results[name] = {"first_ms": round(timings[0]), "median_ms": round(statistics.median(timings)),
                         "bytes": len(body), "status": response.status_code}  # fmt: skip
    return results


def measure_export(url: str, fmt: str) -> dict[str, Any]:
    client = _client(url)
    client.get("/reports")  # warm: app, templates, connection
    baseline = rss_mb()
    cpu = cpu_seconds()
    started = time.perf_counter()
    response = client.get(f"/reports/completion.{fmt}", buffered=False)
    first_byte = first_row = None
    size = newlines = 0
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        if fmt == "csv":
            newlines += chunk.count(b"\r\n")
            if first_row is None and newlines >= 2:  # the header line, then a row
                first_row = time.perf_counter() - started
    response.close()
    spent = time.perf_counter() - started
    return {
        "format": fmt,
        "status": response.status_code,
        "seconds": round(spent, 1),
        "cpu_seconds": round(cpu_seconds() - cpu, 1),
        "first_byte_seconds": round(first_byte or 0, 2),
        "first_row_seconds": round(first_row or first_byte or 0, 2),
        "megabytes": round(size / 1e6, 1),
        "rows": newlines - 1 if fmt == "csv" else None,
        "rss_before_mb": round(baseline),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _in_fresh_process(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=os.environ.copy())  # fmt: skip
    if done.returncode:
        raise SystemExit(done.stderr[-4000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(url: str, runs: int, formats: list[str]) -> None:
    from sqlalchemy import func, select

    from vle.db import make_engine
    from vle.learning.models import Enrolment

    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Enrolment))
        backend = (
            f"{engine.dialect.name} {'.'.join(map(str, engine.dialect.server_version_info or ()))}"
        )
    engine.dispose()
    calibration = min(
        _timed(lambda: sum(range(1_000_000))) for _ in range(5)
    )  # ~15 ms on an idle 2020s laptop core
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n{backend}: {total:,} enrolments; {os.cpu_count()} CPUs, load average {load}, "
          f"sum(range(10**6)) in {calibration * 1000:.0f} ms", flush=True)  # fmt: skip
    pages = _in_fresh_process("_pages", "--url", url, "--runs", str(runs))
    print(f"  {'page':<34} {'first':>8} {'median':>8}")
    for name, figures in pages.items():
        print(f"  {name:<34} {figures['first_ms']:>6} ms {figures['median_ms']:>6} ms")
    for fmt in formats:
        result = _in_fresh_process("_export", "--url", url, "--format", fmt)
        rows = f"{result['rows']:,} rows, " if result["rows"] is not None else ""
        print(f"  export {fmt}: {result['seconds']} s, CPU {result['cpu_seconds']} s "
              f"({rows}{result['megabytes']} MB, "
              f"first byte after {result['first_byte_seconds']} s, first row after "
              f"{result['first_row_seconds']} s), peak RSS "
              f"{result['peak_rss_mb']} MB (before the export: {result['rss_before_mb']} MB)",
              flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["seed", "measure", "all", "_pages", "_export"])
    parser.add_argument("--url", default=os.environ.get("VLE_DATABASE_URL"))
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--courses", type=int, default=200)
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5, help="timings per page")
    parser.add_argument("--formats", default="csv", help="exports to time: csv,xlsx,json")
    parser.add_argument("--format", default="csv")
    args = parser.parse_args(argv)
    if not args.url:
        raise SystemExit("set VLE_DATABASE_URL (or --url) to the database to use")
    if args.what in ("seed", "all"):
        seed(args.url, args.learners, args.courses, args.enrolments, args.batch, args.seed)
    if args.what in ("measure", "all"):
        measure(args.url, args.runs, [f for f in args.formats.split(",") if f])
    if args.what == "_pages":
        print(json.dumps(measure_pages(args.url, args.runs)))
    if args.what == "_export":
        print(json.dumps(measure_export(args.url, args.format)))


if __name__ == "__main__":
    main()
