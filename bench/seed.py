"""Seed a database with a load-test population: organisations, 10,000 learners,
50 published courses of real lesson text, 200,000 enrolments with item progress.

    VLE_DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/seed.py
    VLE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vle_bench .venv/bin/python bench/seed.py

The schema is made by the migrations first (what `vle db upgrade` does); the rows
then go in with SQLAlchemy Core executemany in large batches, not through the ORM
and its services: a million rows one object at a time would take far too long.
Everything is drawn from one seeded random generator and a fixed base date, so
the same arguments give the same database. The password hash is computed once
and shared by every learner (scrypt per learner would take minutes).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# What the load script relies on to sign in as seeded learners.
PASSWORD = "bench-learner-password"  # noqa: S105 - benchmark data only
EMAIL_FORMAT = "learner{:05d}@bench.example.org"
BASE_TIME = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)

FIRST_NAMES = (
    "Aistė", "Jonas", "Rūta", "Mindaugas", "Eglė", "Tomas", "Gintarė", "Darius", "Agnieszka",
    "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Ingrid", "Lars", "Kari", "Ola", "Sigrid",
    "Laura", "Andrius", "Ieva", "Paweł", "Marta", "Nils",
)  # fmt: skip
LAST_NAMES = (
    "Kazlauskienė", "Petrauskas", "Jankauskaitė", "Vasiliauskas", "Žukauskienė", "Butkus",
    "Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Hansen", "Johansen", "Olsen", "Larsen",
    "Berg", "Stankevičius", "Paulauskaitė", "Kamińska", "Lewandowski", "Dahl",
)  # fmt: skip
SUBSIDIARIES = (
    ("school", "gymnasium"),
    ("library", "public library"),
    ("care", "care home"),
    ("kindergarten", "kindergarten"),
)
TOPICS = (
    "Anti-corruption basics", "Social clustering and cooperation", "Early-childhood education",
    "Data protection at work", "Plain language for public services", "Accessible documents",
    "Public procurement", "Working with volunteers", "First aid at the workplace",
    "Project management for EU funds", "Cyber security awareness", "Conflict resolution",
    "Inclusive education", "Records management", "Customer service in municipalities",
    "Safeguarding children", "Dementia care essentials", "Digital skills for librarians",
)  # fmt: skip
LANGUAGES = ("en",) * 6 + ("lt",) * 2 + ("pl", "nb")
USER_LOCALES = ("en", "en", "lt", "lt", "lt", "pl", "pl", "nb", None)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def lesson_library() -> list[tuple[str, str, str]]:
    """(title, markdown, sanitised html) of every lesson shipped in courses/: real
    text of real length, reused across the generated courses."""
    from vle.sanitize import markdown_to_html

    lessons = []
    for path in sorted((ROOT / "courses").glob("*/*/*.md")):
        text = path.read_text(encoding="utf-8")
        title, body = path.stem, text
        if text.startswith("---"):
            _, front, body = text.split("---", 2)
            match = re.search(r"^title:\s*(.+)$", front, re.MULTILINE)
            if match:
                title = match.group(1).strip().strip("\"'")
        lessons.append((title, body.strip(), markdown_to_html(body)))
    if not lessons:
        raise SystemExit("no lessons found in courses/ to build the bench courses from")
    return lessons


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite DateTime (via vle.db.UTCDateTime) would store:
    naive UTC text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


class Timer:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def lap(self, what: str, rows: int | None = None) -> None:
        now = time.perf_counter()
        spent = now - self.last
        rate = f"  ({rows / spent:,.0f} rows/s)" if rows and spent > 0 else ""
        count = f"{rows:>9,} " if rows is not None else " " * 10
        print(f"  {count}{what:<28} {spent:7.2f} s{rate}", flush=True)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.start


def enrolment_counts(rng: random.Random, learners: int, total: int, courses: int) -> list[int]:
    """How many courses each learner takes: spread around the mean, summing to `total`."""
    mean = total / learners
    spread = max(1, int(mean * 0.75))
    counts = [
        min(courses, max(1, round(mean + rng.uniform(-spread, spread)))) for _ in range(learners)
    ]
    difference = total - sum(counts)
    step = 1 if difference > 0 else -1
    while difference:
        index = rng.randrange(learners)
        if 1 <= counts[index] + step <= courses:
            counts[index] += step
            difference -= step
    return counts


def weighted_sample(rng: random.Random, weights: list[float], k: int) -> list[int]:
    """k distinct indexes drawn with probability by weight (Efraimidis–Spirakis)."""
    keys = [(rng.random() ** (1.0 / w), i) for i, w in enumerate(weights)]
    keys.sort(reverse=True)
    return [i for _, i in keys[:k]]


def advance_sequences(
    conn: Any, tables: Iterable[str] = ("organisations", "users", "courses", "modules", "items")
) -> None:
    """PostgreSQL: rows inserted with explicit ids leave the id sequences
    behind; move them past the rows (else the next insert collides)."""
    from sqlalchemy import text

    if conn.dialect.name != "postgresql":
        return
    for name in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            )
        )


def analyze(engine: Any, vacuum: bool = False) -> None:
    """Fresh planner statistics for the seeded tables (and, `vacuum`, on
    PostgreSQL, the visibility map that index-only scans read)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(command))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()


def seed(
    url: str, learners: int, courses: int, enrolments: int, seed_value: int, batch: int
) -> None:
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from vle import create_app
    from vle.db import Base, get_database
    from vle.migrations import upgrade

    if enrolments > learners * courses:
        raise SystemExit("more enrolments than learner × course pairs")
    rng = random.Random(seed_value)
    timer = Timer()
    print(f"Seeding {url.split('@')[-1]} (seed {seed_value})", flush=True)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": os.environ.get("VLE_SECRET_KEY") or "bench-seed"}
    )
    upgrade(app)
    timer.lap("schema (migrations)")
    engine = get_database(app).engine
    tables = Base.metadata.tables
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(tables["users"])):
            raise SystemExit("the database already has users; seed an empty database")

    password_hash = generate_password_hash(PASSWORD)
    lessons = lesson_library()
    timer.lap("password hash, lesson text")

    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"

        def insert(name: str, rows: list[dict[str, Any]], raw: bool = False) -> int:
            """executemany in batches. `raw`: the big tables go straight to the
            driver's executemany, skipping SQLAlchemy's per-value type processing
            (most of the time on a million rows); values are then given as the
            database stores them."""
            count = 0
            if raw and rows:
                keys = list(rows[0])
                marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
                sql = (
                    f"INSERT INTO {name} ({', '.join(keys)}) "
                    f"VALUES ({', '.join([marker] * len(keys))})"
                )
                convert = _sqlite_value if sqlite else (lambda value: value)
                for chunk in batches(rows, batch):
                    conn.exec_driver_sql(
                        sql, [tuple(convert(row[key]) for key in keys) for row in chunk]
                    )
                    count += len(chunk)
            else:
                for chunk in batches(rows, batch):
                    conn.execute(tables[name].insert(), chunk)
                    count += len(chunk)
            timer.lap(name, count)
            return count

        # Organisations: a network root, municipalities, each with its subsidiaries.
        orgs = [{"id": 1, "code": "BENCH", "name": "Bench network", "kind": "network",
                 "parent_id": None, "path": "/1/"}]  # fmt: skip
        for m in range(1, 11):
            municipality_id = len(orgs) + 1
            orgs.append({"id": municipality_id, "code": f"BENCH-M{m:02d}",
                         "name": f"Bench municipality {m}", "kind": "municipality",
                         "parent_id": 1, "path": f"/1/{municipality_id}/"})  # fmt: skip
            for code, kind in SUBSIDIARIES:
                org_id = len(orgs) + 1
                orgs.append({"id": org_id, "code": f"BENCH-M{m:02d}-{code.upper()}",
                             "name": f"Bench municipality {m} {kind}", "kind": kind,
                             "parent_id": municipality_id,
                             "path": f"/1/{municipality_id}/{org_id}/"})  # fmt: skip
        for row in orgs:
            row["created_at"] = BASE_TIME - timedelta(days=400)
        insert("organisations", orgs)

        # Users: learners first (ids 1..learners), then trainers and one network admin.
        def user(user_id: int, email: str, role: str, org_id: int, network: bool = False) -> dict:
            return {
                "id": user_id,
                "email": email,
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "password_hash": password_hash,
                "role": role,
                "organisation_id": org_id,
                "network": network,
                "locale": rng.choice(USER_LOCALES),
                "timezone": None,
                "active": True,
                "created_at": BASE_TIME - timedelta(days=rng.randint(30, 400)),
            }

        org_ids = [row["id"] for row in orgs[1:]]
        users = [
            user(n, EMAIL_FORMAT.format(n), "learner", rng.choice(org_ids))
            for n in range(1, learners + 1)
        ]
        trainer_ids = list(range(learners + 1, learners + 6))
        users += [
            user(t, f"trainer{t - learners}@bench.example.org", "trainer", 1) for t in trainer_ids
        ]
        users.append(user(learners + 6, "admin@bench.example.org", "admin", 1, network=True))
        insert("users", users, raw=True)

        # Courses: a few modules of a few lessons each, lesson text from courses/.
        course_rows, module_rows, item_rows, trainer_rows = [], [], [], []
        course_items: list[list[tuple[int, bool]]] = []  # per course: (item id, required)
        module_id = item_id = 0
        for c in range(1, courses + 1):
            topic = TOPICS[(c - 1) % len(TOPICS)]
            title = f"{topic} {(c - 1) // len(TOPICS) + 1}"
            course_rows.append({
                "id": c, "slug": f"bench-{c:02d}-{slugify(topic)}", "title": title,
                "summary": f"A bench course on {topic.lower()}: what it is, how to apply it in "
                           "daily work, and cases from partner organisations.",
                "language": rng.choice(LANGUAGES), "status": "published", "enrolment_key": None,
                "starts": None, "ends": None,
                "validity_months": rng.choice((None, None, 12, 24)), "competencies": [],
                "completion_rule": "all_required",
                "created_at": BASE_TIME - timedelta(days=rng.randint(200, 400)),
                "updated_at": BASE_TIME - timedelta(days=rng.randint(1, 199)),
            })  # fmt: skip
            trainer_rows.append({"course_id": c, "user_id": trainer_ids[c % len(trainer_ids)]})
            items_here: list[tuple[int, bool]] = []
            for m in range(1, rng.randint(3, 5) + 1):
                module_id += 1
                module_rows.append({
                    "id": module_id, "course_id": c, "slug": f"module-{m}", "position": m,
                    "title": f"Module {m}: {rng.choice(lessons)[0]}", "prefix": f"{m:02d}",
                })  # fmt: skip
                for i in range(1, rng.randint(3, 5) + 1):
                    item_id += 1
                    lesson_title, source, html = rng.choice(lessons)
                    required = rng.random() < 0.9
                    item_rows.append({
                        "id": item_id, "module_id": module_id, "slug": f"lesson-{i}",
                        "position": i, "prefix": f"{i:02d}", "kind": "lesson",
                        "title": lesson_title, "required": required,
                        "minutes": rng.choice((5, 10, 10, 15, 20)), "body_html": html,
                        "source": source, "settings": {},
                    })  # fmt: skip
                    items_here.append((item_id, required))
            course_items.append(items_here)
        insert("courses", course_rows)
        insert("course_trainers", trainer_rows)
        insert("modules", module_rows)
        insert("items", item_rows)

        # Enrolments: popular and niche courses (Zipf-like weights), each learner in
        # several; some not started, many in progress, some completed.
        weights = [1.0 / (rank**0.8) for rank in range(1, courses + 1)]
        rng.shuffle(weights)
        counts = enrolment_counts(rng, learners, enrolments, courses)
        enrolment_rows: list[dict[str, Any]] = []
        progress_rows: list[dict[str, Any]] = []
        completion_rows: list[dict[str, Any]] = []
        for learner, count in enumerate(counts, start=1):
            for course_index in weighted_sample(rng, weights, count):
                items_here = course_items[course_index]
                enrolled = BASE_TIME - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
                roll = rng.random()
                if roll < 0.35:
                    done_count = 0
                elif roll < 0.85:  # learners drop off: few lessons done is most common
                    done_count = 1 + int((len(items_here) - 1) * rng.random() ** 2)
                else:
                    done_count = len(items_here)
                moment = enrolled
                for item, _required in items_here[:done_count]:
                    moment += timedelta(minutes=rng.randint(5, 3 * 24 * 60))
                    progress_rows.append({"user_id": learner, "item_id": item,
                                          "viewed_at": moment, "completed_at": moment,
                                          "passed": None})  # fmt: skip
                viewed_next = 0 < done_count < len(items_here)
                if viewed_next:  # the lesson they stopped at: opened, not completed
                    moment += timedelta(minutes=rng.randint(1, 60))
                    progress_rows.append({"user_id": learner,
                                          "item_id": items_here[done_count][0],
                                          "viewed_at": moment, "completed_at": None,
                                          "passed": None})  # fmt: skip
                required = [item for item, req in items_here if req]
                done_ids = {item for item, _ in items_here[:done_count]}
                done_required = sum(1 for item in required if item in done_ids)
                completed = bool(required) and done_required == len(required)
                if completed:
                    status, progress, completed_at = "completed", 100, moment
                    course_row = course_rows[course_index]
                    expires = None
                    if course_row["validity_months"]:
                        expires = completed_at + timedelta(days=30 * course_row["validity_months"])
                    completion_rows.append({"user_id": learner, "course_id": course_index + 1,
                                            "completed_at": completed_at,
                                            "expires_at": expires})  # fmt: skip
                elif done_count or viewed_next:
                    status, completed_at = "in_progress", None
                    progress = int(100 * done_required / len(required)) if required else 0
                else:
                    status, progress, completed_at = "not_started", 0, None
                enrolment_rows.append({"user_id": learner, "course_id": course_index + 1,
                                       "status": status, "progress": progress,
                                       "method": "self" if rng.random() < 0.7 else "organisation",
                                       "enrolled_at": enrolled,
                                       "completed_at": completed_at})  # fmt: skip
        timer.lap("generate enrolments (memory)")
        insert("enrolments", enrolment_rows, raw=True)
        insert("item_progress", progress_rows, raw=True)
        insert("completions", completion_rows, raw=True)

        advance_sequences(conn)
    timer.lap("commit")
    analyze(engine)
    timer.lap("analyze")
    engine.dispose()
    print(
        f"Done in {timer.total():.1f} s: {learners:,} learners, {courses} courses "
        f"({len(item_rows):,} lessons in {len(module_rows)} modules), {len(enrolment_rows):,} "
        f"enrolments, {len(progress_rows):,} item progress rows, "
        f"{len(completion_rows):,} completions.\n"
        f"Learners sign in as {EMAIL_FORMAT.format(1)} … {EMAIL_FORMAT.format(learners)} "
        f"with the password {PASSWORD!r}.",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--enrolments", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20251124, help="random seed")
    parser.add_argument("--batch", type=int, default=20_000, help="rows per executemany")
    args = parser.parse_args(argv)
    url = os.environ.get("VLE_DATABASE_URL")
    if not url:
        # Never fall back to the instance database: this fills it with 10,000 learners.
        raise SystemExit("set VLE_DATABASE_URL to the (empty) database to seed")
    if min(args.learners, args.courses, args.enrolments, args.batch) < 1:
        raise SystemExit("counts must be positive")
    if args.courses > 99:
        raise SystemExit("at most 99 courses")
    seed(url, args.learners, args.courses, args.enrolments, args.seed, args.batch)


if __name__ == "__main__":
    main()
