"""Forums and search at scale (issue 19): 1,000,000 posts in 50,000 threads,
every post in the search index, then the forum page, a thread page and search
under 32 concurrent users against gunicorn (`vle serve`), as bench/load.py
measures the course pages.

    .venv/bin/python bench/forums.py seed --database-url sqlite:////tmp/forums.sqlite3
    .venv/bin/python bench/forums.py load --database-url sqlite:////tmp/forums.sqlite3

`seed` fills an empty database: first bench/seed.py's population (smaller by
default: 2,000 learners, 50 courses, 20,000 enrolments; the virtual users sign
in as its learners), then 10 network forums and the 50 courses' forums with
50,000 threads and 1,000,000 posts — one forum of 20,000 threads (800 pages),
one thread of 5,000 posts — and their 1,000,000 search documents (and, on
SQLite, FTS5 rows), as `search.index_post` would write them: a post's text is
1–4 sentences of the shipped courses' lessons (English and Lithuanian), whose
terms are made once per sentence and language by `search.terms` (a post's terms
are the union of its words'). 1 post in 20,000 has the word "zanzibar" (the
rare word). Each learner has read marks on the big forum's 60 newest threads.
Rows go in with the driver's executemany in batches (no ORM objects).

`load` runs each scenario for --duration seconds after --warmup, 32 users in a
closed loop (no think time), with load.py's client, server and measurement:

- forum: the big forum's first page; forum_deep: one of its pages 400–800;
- thread: the first page of a random thread of the big forum (opening it writes
  the read mark); thread_deep: a random page of the 5,000-post thread;
- search_common ("learning"), search_rare ("zanzibar"), search_two ("public
  sector"), search_lt ("bendradarbiavimo", a genitive of bendradarbiavimas),
  search_syntax ('C++ "draft" OR (partner* -x) AND:') — /network/search?q=….
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import random
import re
import sys
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402 - bench/ is put on the path just above
from seed import BASE_TIME, ROOT, Timer, _sqlite_value, advance_sequences, analyze  # noqa: E402

THREADS = 50_000
POSTS = 1_000_000
BIG_THREADS = 20_000  # the big network forum's
OTHER_THREADS = 2_000  # each other network forum's
NETWORK_FORUMS = 10
LONG_THREAD = 5_000  # posts in the big forum's longest thread
RARE = "zanzibar"
SEARCHES = {
    "search_common": "learning",
    "search_rare": RARE,
    "search_two": "public sector",
    "search_lt": "bendradarbiavimo",
    "search_syntax": 'C++ "draft" OR (partner* -x) AND:',
}
SCENARIOS = {
    "forum": "Forum page (first)",
    "forum_deep": "Forum page (page 400–800)",
    "thread": "Thread page",
    "thread_deep": "Thread page (5,000-post thread, any page)",
    **{name: f"Search: {query}" for name, query in SEARCHES.items()},
}


# --- seeding ---------------------------------------------------------------------------------


def sentences() -> list[tuple[str, str]]:
    """(sentence, language) from the shipped courses' lessons."""
    found = []
    for course in sorted((ROOT / "courses").glob("*/course.yaml")):
        match = re.search(r"^language:\s*(\w+)", course.read_text(), re.MULTILINE)
        language = match.group(1) if match else "en"
        for path in sorted(course.parent.glob("*/*.md")):
            body = path.read_text(encoding="utf-8").split("---", 2)[-1]
            body = re.sub(r"[#*_>`\[\]()|-]+", " ", body)
            for sentence in re.split(r"(?<=[.!?])\s+", body):
                sentence = " ".join(sentence.split())
                if len(sentence.split()) >= 4:
                    found.append((sentence, language))
    return found


def seed_forums(url: str, learners: int, courses: int, enrolments: int, batch: int) -> None:
    import seed as base
    from sqlalchemy import create_engine, func, select, text

    from vle import create_app
    from vle.community import search
    from vle.db import Base

    base.seed(url, learners, courses, enrolments, 20251124, 20_000)
    timer = Timer()
    rng = random.Random(19)
    pool = sentences()
    cache: dict[tuple[int, str], set[str]] = {}

    def words_of(index: int, language: str) -> set[str]:
        key = (index, language)
        if key not in cache:
            cache[key] = search.terms(pool[index][0], language)
        return cache[key]

    engine = create_engine(url)
    tables = Base.metadata.tables
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        learner_ids = list(range(1, learners + 1))
        course_rows = conn.execute(select(tables["courses"].c.id, tables["courses"].c.language))
        course_language = {cid: lang for cid, lang in course_rows}
        forums = [
            {"id": n, "course_id": None, "title": f"Network forum {n}", "description": "",
             "kind": "standard", "subscription": "optional", "lock_after_days": None,
             "position": n, "created_at": BASE_TIME - timedelta(days=800)}
            for n in range(1, NETWORK_FORUMS + 1)
        ]  # fmt: skip
        for cid in sorted(course_language):
            forums.append({**forums[0], "id": len(forums) + 1, "course_id": cid,
                           "title": f"Course {cid} forum", "position": 0})  # fmt: skip
        conn.execute(tables["forums"].insert(), forums)
        language_of = {f["id"]: course_language.get(f["course_id"], "") for f in forums}
        course_of = {f["id"]: f["course_id"] for f in forums}
        # Threads: 20,000 in forum 1, 2,000 in each other network forum, the rest
        # spread over the course forums.
        forum_of = [1] * BIG_THREADS
        for forum_id in range(2, NETWORK_FORUMS + 1):
            forum_of += [forum_id] * OTHER_THREADS
        course_forums = [f["id"] for f in forums[NETWORK_FORUMS:]]
        forum_of += [course_forums[n % len(course_forums)] for n in range(THREADS - len(forum_of))]
        sizes = [1 + int(rng.expovariate(1 / 18)) for _ in range(THREADS)]
        sizes[0] = LONG_THREAD
        excess = sum(sizes) - POSTS
        while excess:  # to exactly POSTS, never below one post a thread
            n = rng.randrange(1, THREADS)
            step = 1 if excess > 0 else -1
            if sizes[n] - step >= 1:
                sizes[n] -= step
                excess -= step
        timer.lap("plan")

        def raw(name: str, rows: list[dict[str, Any]]) -> None:
            keys = list(rows[0])
            if not sqlite:  # PostgreSQL: COPY, several times faster than executemany
                cursor = conn.connection.driver_connection.cursor()
                with cursor.copy(f"COPY {name} ({', '.join(keys)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[k] for k in keys])
                return
            marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            sql = (
                f"INSERT INTO {name} ({', '.join(keys)}) VALUES ({', '.join([marker] * len(keys))})"
            )
            convert = _sqlite_value if sqlite else (lambda value: value)
            conn.exec_driver_sql(sql, [tuple(convert(row[k]) for k in keys) for row in rows])

        if not sqlite:  # the GIN index is built once at the end, not row by row
            conn.execute(text("DROP INDEX ix_search_documents_terms"))
        first_doc = (conn.scalar(select(func.max(tables["search_documents"].c.id))) or 0) + 1
        span = 700 * 24 * 3600  # threads start over the two years before BASE_TIME
        post_id = 0
        threads: list[dict[str, Any]] = []
        posts: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        fts: list[dict[str, Any]] = []

        def flush() -> None:
            if threads:
                raw("forum_threads", threads)
            raw("forum_posts", posts)
            raw("search_documents", docs)
            if fts:
                raw("search_fts", fts)
            for rows in (threads, posts, docs, fts):
                rows.clear()

        for n, (forum_id, size) in enumerate(zip(forum_of, sizes, strict=True)):
            thread_id = n + 1
            language = language_of[forum_id]
            subject_index = rng.randrange(len(pool))
            subject = " ".join(pool[subject_index][0].split()[:8]).rstrip(".,:;")[:300]
            title_terms = search._joined(words_of(subject_index, language))
            started = BASE_TIME - timedelta(seconds=rng.randrange(span))
            moment = started
            author = rng.choice(learner_ids)
            for p in range(size):
                post_id += 1
                chosen = [rng.randrange(len(pool)) for _ in range(rng.randint(1, 4))]
                body = " ".join(pool[i][0] for i in chosen)
                found = set(words_of(subject_index, language))
                for i in chosen:
                    found |= words_of(i, language)
                if rng.random() < 1 / 20_000:
                    body += f" {RARE.capitalize()}."
                    found.add(RARE)
                writer = author if p == 0 else rng.choice(learner_ids)
                posts.append({"id": post_id, "thread_id": thread_id, "author_id": writer,
                              "quote_id": None, "source": body,
                              "body_html": f"<p>{html.escape(body)}</p>",
                              "created_at": moment, "edited_at": None, "notify_at": moment,
                              "notified": True, "hidden": False})  # fmt: skip
                doc = {"id": first_doc + post_id - 1, "kind": "post", "ref_id": post_id,
                       "key": "", "language": language, "title": subject,
                       "snippet": search._snippet(body), "title_terms": title_terms,
                       "terms": search._joined(found), "course_id": course_of[forum_id],
                       "forum_id": forum_id, "thread_id": thread_id, "author_id": writer,
                       "qa_reply": False, "hidden": False, "status": "",
                       "created_at": moment}  # fmt: skip
                docs.append(doc)
                if sqlite:
                    fts.append({"rowid": doc["id"], "title_terms": title_terms,
                                "terms": doc["terms"]})  # fmt: skip
                moment += timedelta(minutes=rng.randint(1, 600 if size < 1000 else 20))
            threads.append({"id": thread_id, "forum_id": forum_id, "author_id": author,
                            "subject": subject, "created_at": started,
                            "last_post_at": moment - timedelta(minutes=1), "post_count": size,
                            "pinned": n < 3, "locked": False, "hidden": False})  # fmt: skip
            if len(posts) >= batch:
                flush()
                if post_id % 100_000 < batch:
                    timer.lap(f"posts and documents to {post_id:,}", None)
        flush()
        timer.lap("threads, posts, documents", POSTS)
        # Read marks: every learner has read the big forum's 60 newest threads up to
        # some moment, so their unread counts vary.
        listing = tables["forum_threads"].c
        last_post = dict(
            conn.execute(
                select(listing.id, listing.last_post_at)
                .where(listing.forum_id == 1)
                .order_by(listing.last_post_at.desc())
                .limit(60)
            ).all()
        )
        newest = list(last_post)
        reads = [
            {"user_id": u, "thread_id": t,
             "read_at": last_post[t] - timedelta(minutes=rng.choice((0, 0, 30, 600, 6000)))}
            for u in learner_ids for t in newest
        ]  # fmt: skip
        for start in range(0, len(reads), batch):
            raw("forum_thread_reads", reads[start : start + batch])
        timer.lap("read marks", len(reads))
        if not sqlite:
            conn.execute(
                text(
                    "CREATE INDEX ix_search_documents_terms ON search_documents "
                    "USING gin (to_tsvector('simple', terms))"
                )
            )
            timer.lap("GIN index")
        advance_sequences(conn, ("forums", "forum_threads", "forum_posts", "search_documents"))
    # The courses and organisations in the index too, as `vle search reindex` leaves them.
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-seed"})
    with app.app_context():
        from vle import db
        from vle.accounts.models import Organisation
        from vle.catalog.models import Course

        session = db.session()
        for course in session.scalars(select(Course)):
            search.index_course(session, course)
        for org in session.scalars(select(Organisation)):
            search.index_organisation(session, org)
        session.commit()
    analyze(engine, vacuum=True)
    timer.lap("courses indexed, analyze")
    engine.dispose()
    print(f"Forums seeded in {timer.total():.0f} s", flush=True)


# --- load ------------------------------------------------------------------------------------


class ForumUser(load.VirtualUser):
    """A learner reading the network forums and searching."""

    threads: list[int] = []  # the big forum's thread ids, shuffled per user
    long_thread = 1
    rng: random.Random

    def next_target(self, scenario: str) -> tuple[str, str, dict[str, str] | None]:
        n = self.turn.get(scenario, 0)
        self.turn[scenario] = n + 1
        if scenario == "forum":
            return "GET", "/network/forums/1", None
        if scenario == "forum_deep":
            return "GET", f"/network/forums/1?page={self.rng.randint(400, 800)}", None
        if scenario == "thread":
            return "GET", f"/network/threads/{self.rng.choice(self.threads)}", None
        if scenario == "thread_deep":
            page = self.rng.randint(1, LONG_THREAD // 25)
            return "GET", f"/network/threads/{self.long_thread}?page={page}", None
        if scenario in SEARCHES:
            return "GET", f"/network/search?q={quote_plus(SEARCHES[scenario])}", None
        return super().next_target(scenario)


def run_load(args: argparse.Namespace) -> dict[str, Any]:
    from seed import PASSWORD
    from sqlalchemy import create_engine

    load.SCENARIOS.update(SCENARIOS)
    load.EXPECTED.update(dict.fromkeys(SCENARIOS, 200))
    engine = create_engine(args.database_url)
    with engine.connect() as conn:
        threads = list(conn.scalars(text("SELECT id FROM forum_threads WHERE forum_id = 1")))
        learners = list(
            conn.scalars(text("SELECT email FROM users WHERE role = 'learner' ORDER BY id"))
        )
    engine.dispose()
    rng = random.Random(args.seed)
    users = []
    for n, email in enumerate(rng.sample(learners, args.users)):
        user = ForumUser(email=email, courses=[], lessons=[], to_complete=[])
        user.threads = threads
        user.rng = random.Random(n)
        users.append(user)

    async def measure() -> list[load.Result]:
        port = load.free_port()
        process = load.start_server(
            args.database_url, port, args.workers, args.threads, 16, Path(args.server_log)
        )
        results = []
        try:
            semaphore = asyncio.Semaphore(4)

            async def limited(user: ForumUser) -> None:
                async with semaphore:
                    await load.sign_in(user, port, PASSWORD)

            await asyncio.gather(*(limited(user) for user in users))
            for scenario in args.scenarios:
                for user in users:
                    assert user.connection is not None
                    await user.connection.close()
                result = await load.run_scenario(
                    scenario, users, args.warmup, args.duration, 50_000, process.pid
                )
                results.append(result)
                print(
                    f"  {result.name:<44} {result.rps:7.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
                    f"p99 {result.p99_ms:7.1f} ms  errors {result.errors} "
                    f"{result.error_samples[:1]}  load {result.load_before}",
                    flush=True,
                )
            for user in users:
                assert user.connection is not None
                await user.connection.close()
        finally:
            load.stop_server(process)
        return results

    results = asyncio.run(measure())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "database": args.database_url.split("://")[0],
        "label": args.label,
        "results": [asdict(r) for r in results],
        "table": load.table(results),
    }


def statements(args: argparse.Namespace) -> None:
    """Each scenario's page in-process (Flask's test client, as a seeded
    learner): its time and every SQL statement with its own time."""
    from seed import EMAIL_FORMAT, PASSWORD
    from sqlalchemy import event

    from vle import create_app
    from vle.db import get_database

    app = create_app(
        {"DATABASE_URL": args.database_url, "SECRET_KEY": "sql", "SECURE_COOKIES": False}
    )
    engine = get_database(app).engine
    client = app.test_client()
    token = load.CSRF.search(client.get("/login").data)
    assert token is not None
    form = {"csrf_token": token.group(1).decode(), "email": EMAIL_FORMAT.format(1)}
    assert client.post("/login", data={**form, "password": PASSWORD}).status_code == 302
    user = ForumUser(email=form["email"], courses=[], lessons=[], to_complete=[])
    with engine.connect() as conn:
        user.threads = list(conn.scalars(text("SELECT id FROM forum_threads WHERE forum_id = 1")))
    user.rng = random.Random(args.seed)
    timings: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, _c: Any, _s: str, _p: Any, context: Any, _m: bool) -> None:
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, _c: Any, statement: str, _p: Any, _x: Any, _m: bool) -> None:
        timings.append((time.perf_counter() - conn.info["started"], statement))

    for scenario in args.scenarios:
        for _ in range(3):
            timings.clear()
            _method, path, _form = user.next_target(scenario)
            started = time.perf_counter()
            status = client.get(path).status_code
            spent = time.perf_counter() - started
        print(f"\n{scenario} {path} → {status} in {1000 * spent:.1f} ms, {len(timings)} statements")
        for seconds, statement in timings:
            if seconds > args.slower / 1000:
                print(f"  {1000 * seconds:7.1f} ms  {' '.join(statement.split())[:300]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("seed", "load", "sql"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--learners", type=int, default=2_000)
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--enrolments", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10_000, help="posts per executemany")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--seed", type=int, default=1, help="which learners")
    parser.add_argument("--label", default="")
    parser.add_argument("--json", help="write the results here (JSON)")
    parser.add_argument("--slower", type=float, default=1.0, help="sql: statements over (ms)")
    parser.add_argument("--server-log", default="/tmp/vle-bench-forums-server.log")
    args = parser.parse_args(argv)
    if args.step == "seed":
        seed_forums(args.database_url, args.learners, args.courses, args.enrolments, args.batch)
        return
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if args.step == "sql":
        statements(args)
        return
    report = run_load(args)
    print(report["table"])
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
