"""Monitoring benchmark (issue 19): the whole network's monitoring page and the
network picture at 100,000 learners, 300,000 enrolments over 200 courses, in an
organisation tree of 212 (the report benchmark's: 30 municipalities with six
subsidiaries each, here each municipality a partner in LT, PL or NO).

    # SQLite (a fresh file)
    VLE_DATABASE_URL=sqlite:////tmp/vle-monitoring.sqlite3 .venv/bin/python bench/monitoring.py all
    # PostgreSQL (an empty database)
    createdb -h 127.0.0.1 -U postgres vle_bench_mon
    VLE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/vle_bench_mon \\
        .venv/bin/python bench/monitoring.py all

`seed` is `bench/reports.py seed` with these numbers, then the countries.
`measure`, signed in as the network administrator (after one page to warm up): each page
once with nothing counted yet (the page counts on the spot and stores: what
every request cost before the figures were counted ahead), then `--runs` times
reading the stored figures; and the worker's refresh of them.

Target: the monitoring page for the whole network under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Run from bench/, as reports.py is: the same seed, app and signed-in client.
import reports  # noqa: E402

COUNTRIES = ("LT", "PL", "NO")
PAGES = {
    "monitoring, last 12 months": "/network/monitoring",
    # The seeded two years (to January 2026) and the months since: 36 months.
    "monitoring, since January 2024": "/network/monitoring?since=2024-01-01",
    "network picture": "/network/picture",
}


def seed(url: str, learners: int, enrolments: int, batch: int, seed_value: int) -> None:
    from sqlalchemy import update

    from vle.accounts.models import Organisation
    from vle.db import make_engine

    reports.seed(url, learners, 200, enrolments, batch, seed_value)
    engine = make_engine(url)
    with engine.begin() as conn:
        for m in range(1, 31):
            conn.execute(
                update(Organisation)
                .where(Organisation.code == f"M{m:02d}")
                .values(country=COUNTRIES[(m - 1) // 10])
            )
    engine.dispose()


def _forget(url: str) -> None:
    from sqlalchemy import delete

    from vle.db import make_engine
    from vle.monitoring.models import MonitoringFigures

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(MonitoringFigures))
    engine.dispose()


def measure_pages(url: str, runs: int) -> dict[str, Any]:
    _forget(url)
    client = reports._client(url)
    client.get("/network/")  # warm: app, templates, connection
    results: dict[str, Any] = {}
    for name, path in PAGES.items():
        timings = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            response = client.get(path)
            response.get_data()
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
        results[name] = {"counted_ms": round(timings[0]),
                         "stored_median_ms": round(statistics.median(timings[1:])),
                         "stored_max_ms": round(max(timings[1:]))}  # fmt: skip
    return results


def measure_refresh(url: str) -> dict[str, Any]:
    from vle.monitoring import precomputed

    app = reports._app(url)
    with app.app_context():
        started = time.perf_counter()
        count = precomputed.refresh(everything=True)
        return {"questions": count, "seconds": round(time.perf_counter() - started, 1)}


def measure(url: str, runs: int) -> None:
    from sqlalchemy import func, select

    from vle.db import make_engine
    from vle.learning.models import Enrolment

    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Enrolment))
    name = engine.dialect.name
    engine.dispose()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n{name}: {total:,} enrolments; load average {load}", flush=True)
    pages = measure_pages(url, runs)
    for page, figures in pages.items():
        print(f"  {page:<32} counted on the spot {figures['counted_ms']:>6} ms; "
              f"stored: median {figures['stored_median_ms']} ms, "
              f"max {figures['stored_max_ms']} ms", flush=True)  # fmt: skip
    refreshed = measure_refresh(url)
    print(f"  worker refresh: {refreshed['questions']} questions in {refreshed['seconds']} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["seed", "measure", "all"])
    parser.add_argument("--url", default=os.environ.get("VLE_DATABASE_URL"))
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--enrolments", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--runs", type=int, default=5, help="timings of the stored figures")
    args = parser.parse_args(argv)
    if not args.url:
        raise SystemExit("set VLE_DATABASE_URL (or --url) to the database to use")
    if args.what in ("seed", "all"):
        seed(args.url, args.learners, args.enrolments, args.batch, args.seed)
    if args.what in ("measure", "all"):
        measure(args.url, args.runs)


if __name__ == "__main__":
    main()
