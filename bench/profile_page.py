"""Profile one page in-process: where does a request's time go?

    VLE_DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/profile_page.py course
    ... profile_page.py lesson --requests 300 --sort tottime

Signs in as a seeded learner with Flask's test client (no server, no network),
requests the page a few times to warm caches, then profiles N more requests
with cProfile and prints the top functions, the mean time per request and the
number of SQL statements per request.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", choices=["ceiling", "floor", "course", "lesson", "my", "complete"])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--learner", type=int, default=1)
    parser.add_argument("--no-profile", action="store_true", help="time only")
    parser.add_argument("--callers", metavar="PATTERN", help="who calls the functions matching it")
    parser.add_argument("--callees", metavar="PATTERN", help="what the functions matching it call")
    args = parser.parse_args(argv)
    url = os.environ.get("VLE_DATABASE_URL")
    if not url:
        raise SystemExit("set VLE_DATABASE_URL to a seeded database")
    os.environ["VLE_BENCH_CEILING"] = "1"

    from seed import EMAIL_FORMAT, PASSWORD

    from vle import create_app
    from vle.db import get_database

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "profile", "SECURE_COOKIES": False})
    engine = get_database(app).engine
    email = EMAIL_FORMAT.format(args.learner)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT c.slug, i.id FROM enrolments e JOIN users u ON u.id = e.user_id "
                "JOIN courses c ON c.id = e.course_id JOIN modules m ON m.course_id = c.id "
                "JOIN items i ON i.module_id = m.id WHERE u.email = :email "
                "AND e.status != 'completed' ORDER BY e.id, m.position, i.position"
            ),
            {"email": email},
        ).first()
    if row is None:
        raise SystemExit(f"{email} has no open enrolment")
    slug, item_id = row
    items = []
    with engine.connect() as conn:
        items = list(
            conn.scalars(
                text(
                    "SELECT i.id FROM items i JOIN modules m ON m.id = i.module_id "
                    "JOIN courses c ON c.id = m.course_id WHERE c.slug = :slug"
                ),
                {"slug": slug},
            )
        )

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    answer = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code
    token = CSRF.search(client.get("/my").get_data(as_text=True)).group(1)

    turn = {"n": 0}

    def one() -> int:
        turn["n"] += 1
        if args.page == "ceiling":
            return client.get("/bench/ceiling").status_code
        if args.page == "floor":
            return client.get("/bench/page").status_code
        if args.page == "course":
            return client.get(f"/courses/{slug}").status_code
        if args.page == "lesson":
            return client.get(f"/courses/{slug}/items/{items[turn['n'] % len(items)]}").status_code
        if args.page == "my":
            return client.get("/my").status_code
        item = items[turn["n"] % len(items)]
        return client.post(
            f"/courses/{slug}/items/{item}/complete", data={"csrf_token": token}
        ).status_code

    for _ in range(20):
        status = one()
    print(f"{args.page}: status {status} as {email} ({slug}, {len(items)} items)")

    statements = {"n": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        statements["n"] += 1

    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(args.requests):
        one()
    plain = (time.perf_counter() - started) / args.requests
    cpu = (time.process_time() - cpu_started) / args.requests
    queries = statements["n"] / args.requests

    print(
        f"{1000 * cpu:.2f} ms CPU ({1000 * plain:.2f} ms wall) per request unprofiled; "
        f"{queries:.1f} SQL statements each"
    )
    if args.no_profile:
        return
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        one()
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats(args.sort)
    if args.callers or args.callees:
        if args.callers:
            stats.print_callers(args.callers)
        if args.callees:
            stats.print_callees(args.callees)
        return
    stats.print_stats(args.top)


if __name__ == "__main__":
    main()
