"""Competency benchmark (issue 16): seed 100,000 learners × 30 competencies (3,000,000
ratings, about 10,000,000 pieces of evidence), then time the competency report's full
CSV (wall, CPU, first byte, peak memory of the serving process) and the evidence
cascade of one course completion (links firing, parents' rules cascading).

    # SQLite (a fresh file)
    VLE_DATABASE_URL=sqlite:////tmp/vle-competencies.sqlite3 .venv/bin/python bench/competencies.py all
    # PostgreSQL (an empty database)
    createdb -h 127.0.0.1 -U postgres vle_bench_h4
    VLE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vle_bench_h4 \\
        .venv/bin/python bench/competencies.py all
    # a quick run: --learners 5000

Targets: CSV < 20 s and < 200 MB, streaming from the first byte; cascade < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

# Run from bench/, as reports.py is: the same admin, app and measuring helpers.
from reports import ADMIN_EMAIL, FIRST, LAST, _app, _client, cpu_seconds, rss_mb  # noqa: E402
from seed import advance_sequences, analyze  # noqa: E402

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SCALE = ["not_yet_competent", "competent", "proficient"]
DOMAINS = 4  # each with 6 children: 1 root + 4 domains + 24 skills + 1 alone = 30
CHILDREN = 6
CASCADE_LEARNERS = 50


def _tree() -> list[dict[str, Any]]:
    """30 competencies: ROOT (rule all over the domains), D1..D4 (all, all, points,
    points) with six skills each, and one competency alone."""
    rows: list[dict[str, Any]] = []

    def add(code: str, parent: int | None, rule: Any) -> int:
        cid = len(rows) + 1
        rows.append({"id": cid, "framework_id": 1, "parent_id": parent, "code": code,
                     "title": f"Competency {code}", "description": "", "position": cid,
                     "rule": rule, "rule_outcome": "complete"})  # fmt: skip
        return cid

    root = add("ROOT", None, "all")
    for d in range(1, DOMAINS + 1):
        codes = [f"D{d}-S{s}" for s in range(1, CHILDREN + 1)]
        rule: Any = "all"
        if d > 2:
            rule = {"points": 4, "children": {c: {"points": 1, "required": i == 0}
                                              for i, c in enumerate(codes)}}  # fmt: skip
        domain = add(f"D{d}", root, rule)
        for code in codes:
            add(code, domain, None)
    add("ALONE", None, None)
    return rows


def seed(url: str, learners: int, batch: int, seed_value: int) -> None:
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from vle.db import Base, get_database
    from vle.migrations import upgrade

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
        print(f"  {count:>10,} {name:<22} {spent:7.1f} s ({count / max(spent, 1e-9):,.0f}/s)",
              flush=True)  # fmt: skip
        return count

    tree = _tree()
    skills = [c for c in tree if c["code"].startswith("D") and "-S" in c["code"]]
    with engine.begin() as conn:
        orgs = [{"id": 1, "code": "NET", "name": "Bench network", "kind": "network",
                 "parent_id": None, "path": "/1/", "created_at": NOW}]  # fmt: skip
        for m in range(2, 32):
            orgs.append({"id": m, "code": f"M{m:02d}", "name": f"Municipality {m}",
                         "kind": "municipality", "parent_id": 1, "path": f"/1/{m}/",
                         "created_at": NOW})  # fmt: skip
        insert(conn, "organisations", iter(orgs))
        password = generate_password_hash("bench-reports-password")
        total_users = learners + CASCADE_LEARNERS

        def users() -> Iterator[dict[str, Any]]:
            for n in range(1, total_users + 1):
                yield {"id": n, "email": f"learner{n:06d}@bench.example.org",
                       "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "password_hash": "",
                       "role": "learner", "organisation_id": rng.randint(2, 31),
                       "network": False, "locale": None, "timezone": None, "active": True,
                       "created_at": NOW - timedelta(days=700)}  # fmt: skip
            yield {"id": total_users + 1, "email": ADMIN_EMAIL, "name": "Report Admin",
                   "password_hash": password, "role": "admin", "organisation_id": 1,
                   "network": True, "locale": "en", "timezone": "UTC", "active": True,
                   "created_at": NOW - timedelta(days=700)}  # fmt: skip

        insert(conn, "users", users())
        insert(conn, "competency_frameworks", iter([{
            "id": 1, "code": "BENCH", "title": "Bench framework", "description": "",
            "scale": SCALE, "proficient": SCALE[1:], "default_value": "competent",
            "taxonomies": [], "created_at": NOW, "updated_at": NOW}]))  # fmt: skip
        insert(conn, "competencies", iter(tree))
        # One course per skill (linked to it), and the cascade course linked to D1's six.
        courses = [{"id": i + 1, "slug": f"skill-{c['code'].lower()}", "title": f"Course {c['code']}",
                    "summary": "", "language": "en", "status": "published",
                    "enrolment_key": None, "starts": None, "ends": None, "validity_months": None,
                    "competencies": [], "completion_rule": "all_required", "created_at": NOW,
                    "updated_at": NOW} for i, c in enumerate(skills)]  # fmt: skip
        cascade_course = len(courses) + 1
        courses.append({**courses[0], "id": cascade_course, "slug": "cascade",
                        "title": "Cascade course"})  # fmt: skip
        insert(conn, "courses", iter(courses))
        links = [{"course_id": i + 1, "item_id": None, "competency_id": c["id"],
                  "outcome": "complete"} for i, c in enumerate(skills)]  # fmt: skip
        links += [{"course_id": cascade_course, "item_id": None, "competency_id": c["id"],
                   "outcome": "complete"} for c in skills if c["code"].startswith("D1-")]  # fmt: skip
        insert(conn, "competency_links", iter(links))

        kinds = ("course_completed", "quiz_passed", "item_completed")
        span = 700 * 24 * 3600
        evidence: list[dict[str, Any]] = []

        def standings() -> Iterator[dict[str, Any]]:
            for user in range(1, learners + 1):
                for c in tree:
                    rank = rng.choices((0, 1, 2), (3, 5, 2))[0]
                    rated = NOW - timedelta(seconds=rng.randrange(span))
                    pieces = 3 + (rng.random() < 0.34)  # 3.34 a rating: 10 million in all
                    for p in range(pieces):
                        evidence.append({
                            "user_id": user, "competency_id": c["id"], "kind": kinds[p % 3],
                            "key": f"{kinds[p % 3]}:{user}:{p}", "value": SCALE[rank],
                            "outcome": "complete", "by_id": None, "note": None,
                            "title": c["title"], "url": "/courses/bench", "course_id": None,
                            "item_id": None, "at": rated - timedelta(days=p)})  # fmt: skip
                    yield {"user_id": user, "competency_id": c["id"], "rating": SCALE[rank],
                           "proficient": rank > 0, "rated_at": rated, "rated_by_kind": "auto",
                           "evidence_count": pieces, "self_rating": None,
                           "self_rated_at": None, "self_note": None,
                           "review_requested_at": None, "review_reason": None}  # fmt: skip
                if len(evidence) >= batch:
                    conn.execute(tables["competency_evidence"].insert(), evidence)
                    evidence.clear()

        insert(conn, "user_competencies", standings())
        if evidence:
            conn.execute(tables["competency_evidence"].insert(), evidence)
        # The cascade learners: proficient in D2..D4 (so ROOT's rule is met when D1 is),
        # nothing in D1 yet.
        cascade: list[dict[str, Any]] = []
        for user in range(learners + 1, total_users + 1):
            for c in tree:
                if c["code"][:2] in ("D2", "D3", "D4"):
                    cascade.append({"user_id": user, "competency_id": c["id"],
                                    "rating": "competent", "proficient": True,
                                    "rated_at": NOW, "rated_by_kind": "auto",
                                    "evidence_count": 1})  # fmt: skip
        conn.execute(tables["user_competencies"].insert(), cascade)
        advance_sequences(conn, ("organisations", "users", "courses", "competency_frameworks",
                                 "competencies"))  # fmt: skip
    analyze(engine, vacuum=True)
    with engine.connect() as conn:
        counts = {name: conn.scalar(select(func.count()).select_from(tables[name]))
                  for name in ("users", "user_competencies", "competency_evidence")}  # fmt: skip
    engine.dispose()
    print(f"Seeded in {time.perf_counter() - started:.0f} s: {counts}", flush=True)


# --- measuring (each in a fresh process) ---------------------------------------------------


def measure_export(url: str, fmt: str) -> dict[str, Any]:
    client = _client(url)
    client.get("/reports/competencies")  # warm: app, templates, connection
    baseline, cpu = rss_mb(), cpu_seconds()
    started = time.perf_counter()
    response = client.get(f"/reports/competencies.{fmt}", buffered=False)
    first_byte = first_row = None
    size = newlines = 0
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        newlines += chunk.count(b"\r\n")
        if first_row is None and newlines >= 2:
            first_row = time.perf_counter() - started
    response.close()
    import resource

    return {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(cpu_seconds() - cpu, 1),
        "rows": newlines - 1 if fmt == "csv" else None,
        "megabytes": round(size / 1e6),
        "first_byte_seconds": round(first_byte or 0, 2),
        "first_row_seconds": round(first_row or 0, 2),
        "rss_before_mb": round(baseline),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "status": response.status_code,
    }


def measure_cascade(url: str) -> dict[str, Any]:
    """Complete the cascade course for each cascade learner, in its own transaction:
    six links fire (six pieces of evidence, six ratings), D1's rule is met, then
    ROOT's. Rolled back each time, so the run can be repeated."""
    from sqlalchemy import func, select

    from vle import db
    from vle.catalog.models import Course
    from vle.competencies.models import Competency, Evidence, UserCompetency
    from vle.competencies.services import on_course_completed
    from vle.learning import events
    from vle.learning.models import Completion

    app = _app(url)
    timings, proficient_root = [], 0
    with app.app_context():
        db_session = db.session()
        course = db_session.scalar(select(Course).where(Course.slug == "cascade"))
        root = db_session.scalar(select(Competency).where(Competency.code == "ROOT"))
        d2 = db_session.scalar(select(Competency.id).where(Competency.code == "D2"))
        first = db_session.scalar(select(func.min(UserCompetency.user_id)).where(
            UserCompetency.competency_id == d2, UserCompetency.rated_at == NOW))  # fmt: skip
        users = range(first, first + CASCADE_LEARNERS)
        for user_id in users:
            completion = Completion(user_id=user_id, course_id=course.id, completed_at=NOW)
            db_session.add(completion)
            db_session.flush()
            started = time.perf_counter()
            # The competencies' listener alone (certificates and badges listen too).
            on_course_completed(events.CourseCompleted(db_session, user_id, course, completion))
            db_session.flush()
            timings.append((time.perf_counter() - started) * 1000)
            proficient_root += bool(db_session.scalar(select(UserCompetency.proficient).where(
                UserCompetency.user_id == user_id, UserCompetency.competency_id == root.id)))  # fmt: skip
            pieces = db_session.scalar(select(func.count()).select_from(Evidence).where(
                Evidence.user_id == user_id))  # fmt: skip
            db_session.rollback()
    return {"runs": len(timings), "median_ms": round(statistics.median(timings), 1),
            "p90_ms": round(sorted(timings)[int(len(timings) * 0.9) - 1], 1),
            "max_ms": round(max(timings), 1), "first_ms": round(timings[0], 1),
            "root_proficient": proficient_root, "evidence_per_learner": pieces}  # fmt: skip


def _in_fresh_process(what: str, *args: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, what, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(url: str) -> None:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n{url.split(':')[0]}: {os.cpu_count()} CPUs, load average {load}", flush=True)
    for _ in range(2):
        r = _in_fresh_process("_export", "--url", url, "--format", "csv")
        print(f"  CSV: {r['seconds']} s wall, {r['cpu_seconds']} s CPU, {r['rows']:,} rows, "
              f"{r['megabytes']} MB; first byte {r['first_byte_seconds']} s, first row "
              f"{r['first_row_seconds']} s; peak RSS {r['peak_rss_mb']} MB "
              f"(before: {r['rss_before_mb']} MB)", flush=True)  # fmt: skip
    c = _in_fresh_process("_cascade", "--url", url)
    print(f"  cascade of one course completion: median {c['median_ms']} ms, p90 {c['p90_ms']} "
          f"ms, max {c['max_ms']} ms, first {c['first_ms']} ms ({c['runs']} runs; ROOT "
          f"proficient in {c['root_proficient']}; {c['evidence_per_learner']} pieces of "
          f"evidence per learner after)", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["seed", "measure", "all", "_export", "_cascade"])
    parser.add_argument("--url", default=os.environ.get("VLE_DATABASE_URL"))
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--format", default="csv")
    args = parser.parse_args(argv)
    if not args.url:
        raise SystemExit("set VLE_DATABASE_URL (or --url) to the database to use")
    if args.what in ("seed", "all"):
        seed(args.url, args.learners, args.batch, args.seed)
    if args.what in ("measure", "all"):
        measure(args.url)
    if args.what == "_export":
        print(json.dumps(measure_export(args.url, args.format)))
    if args.what == "_cascade":
        print(json.dumps(measure_cascade(args.url)))


if __name__ == "__main__":
    main()
