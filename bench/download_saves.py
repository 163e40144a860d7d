"""Quiz answer saves while large completion reports download (issue 14, point 1).

    # once: a network with 600,000 enrolments (bench/reports.py's generator), kept as a copy
    (cd bench && ../.venv/bin/python reports.py seed --url sqlite:////tmp/vle-dl-seed.sqlite3 \\
        --learners 60000 --courses 200 --enrolments 600000)
    # each run on a fresh copy of it
    .venv/bin/python bench/download_saves.py --seeded /tmp/vle-dl-seed.sqlite3

It copies the seeded SQLite file, adds a quiz course with `--savers` learners
(API tokens) and an API token for the report's network administrator, and starts
`vle serve` (2 workers x 4 threads). Then, for `--duration` seconds, the whole
network's completion report is downloaded again and again — the CSV through the
API and the XLSX through the Reports page (a signed-in session), both at once, by
curl (`--limit-rate` for a slow reader) — while every saver starts a quiz
attempt and saves one answer every `--pace` seconds over the API, as the quiz
page's autosave does.

Reported: the saves made while a download was in flight (count, failures, p50,
p90, p99, max), the downloads (count, bytes, seconds each) and the server's "database is
locked" lines. Target (issue 14): no failed save, p99 under 100 ms. Only
127.0.0.1; the server is stopped by its process group id when the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Run from bench/, as the other scripts are.
from client import Connection  # noqa: E402
from load import free_port, server_cpu_seconds, start_server, stop_server  # noqa: E402
from quiz_answers import QUIZ, answer_for  # noqa: E402
from reports import ADMIN_EMAIL  # noqa: E402

TARGET_P99_MS = 100.0
ADMIN_PASSWORD = "bench-reports-password"  # bench/reports.py's
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


def add_quiz(url: str, savers: int) -> tuple[int, list[str], str]:
    """A quiz course in the seeded network, `savers` learners enrolled in it with
    API tokens, and a token for the report's administrator."""
    from sqlalchemy import select

    from vle import create_app, db
    from vle.accounts import services as accounts
    from vle.accounts.models import Organisation, User
    from vle.catalog.models import Course, Item, Module
    from vle.learning import services as learning
    from vle.quizzes import gift
    from vle.quizzes import services as quizzes

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"}, env="test")
    with app.app_context(), db.transaction() as session:
        org = session.scalar(select(Organisation).where(Organisation.code == "M01"))
        admin = session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        users = [
            User(email=f"saver{n:04d}@bench.example.org", name=f"Saver {n}", password_hash="",
                 role="learner", organisation_id=org.id)
            for n in range(savers)
        ]  # fmt: skip
        session.add_all(users)
        course = Course(slug="download-bench-quiz", title="Quiz", summary="", status="published")
        module = Module(slug="module", position=1, title="Module", prefix="01")
        item = Item(slug="quiz", position=1, prefix="01", kind="quiz", title="Quiz", source=QUIZ,
                    settings={"pass_mark": 60, "layout": "all_on_one_page",
                              "review": "after_submit", "grading": "highest"})  # fmt: skip
        module.items.append(item)
        course.modules.append(module)
        session.add(course)
        session.flush()
        quizzes.sync_questions(session, item, gift.parse(QUIZ, source="bench.gift"))
        tokens = []
        for user in users:
            learning.enrol(session, user, course, method="manual")
            tokens.append(accounts.create_token(session, user))
        admin_token = accounts.create_token(session, admin)
        item_id = item.id
    db.get_database(app).engine.dispose()
    return item_id, tokens, admin_token


async def signed_in_cookie(port: int) -> str:
    """The administrator's session cookie, from the real sign-in form."""
    connection = Connection(port)
    page = await connection.request("GET", "/login")
    token = CSRF.search(page.body)
    if token is None:
        raise SystemExit(f"GET /login answered {page.status} without a CSRF token")
    answer = await connection.request(
        "POST",
        "/login",
        {"csrf_token": token.group(1).decode(), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    if answer.status != 302:
        raise SystemExit(f"signing in answered {answer.status}, not 302")
    cookies = "; ".join(f"{k}={v}" for k, v in connection.cookies.items())
    await connection.close()
    return cookies


class Downloads:
    """Downloads, one after the other, by curl (a C client in its own process: the
    bytes cost the load generator nothing)."""

    def __init__(self, name: str, url: str, header: str, rate: str | None):
        self.name, self.url, self.header, self.rate = name, url, header, rate
        self.done: list[dict[str, Any]] = []
        self.in_flight: list[tuple[float, float]] = []  # (start, end) of each download

    async def run(self, until: float) -> None:
        while time.perf_counter() < until:
            command = ["curl", "-sS", "-o", "/dev/null", "-H", self.header,
                       "-w", "%{http_code} %{size_download} %{time_total}"]  # fmt: skip
            if self.rate:
                command += ["--limit-rate", self.rate]
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *command, self.url, stdout=asyncio.subprocess.PIPE
            )
            out, _ = await process.communicate()
            ended = time.perf_counter()
            status, size, seconds = out.decode().split()
            self.done.append({"status": int(status), "bytes": int(size), "seconds": float(seconds)})
            self.in_flight.append((started, ended))


async def saving(port: int, item_id: int, token: str, pace: float, until: float,
                 saves: list[tuple[float, float, int]]) -> None:  # fmt: skip
    """One learner: start an attempt, then save an answer every `pace` seconds."""
    conn = Connection(port, headers={"Authorization": f"Bearer {token}"})
    await asyncio.sleep(random.uniform(0, pace))
    started = time.perf_counter()
    answer = await conn.request("POST", f"/api/v1/quizzes/{item_id}/attempts")
    if answer.status not in (200, 201):  # counted as a failed save: this learner saves nothing
        saves.append((started, time.perf_counter() - started, answer.status))
        await conn.close()
        return
    attempt = answer.json()
    turn, next_at = 0, time.perf_counter()
    while time.perf_counter() < until:
        question = attempt["questions"][turn % len(attempt["questions"])]
        started = time.perf_counter()
        try:
            answer = await conn.request(
                "PUT",
                f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}",
                json_body={"answer": answer_for(question, turn)},
            )
            status = answer.status
        except (OSError, asyncio.IncompleteReadError):
            status = 599
        saves.append((started, time.perf_counter() - started, status))
        turn += 1
        next_at += pace
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await conn.close()


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))
    return round(1000 * ordered[min(rank, len(ordered)) - 1], 1)


async def run(args: argparse.Namespace, url: str, item_id: int, tokens: list[str],
              admin_token: str, port: int, master: int) -> dict[str, Any]:  # fmt: skip
    cookie = await signed_in_cookie(port)
    base = f"http://127.0.0.1:{port}"
    downloads = [
        Downloads("CSV (API)", f"{base}/api/v1/reports/completion?format=csv",
                  f"Authorization: Bearer {admin_token}", args.limit_rate),
        Downloads("XLSX (Reports page)", f"{base}/reports/completion.xlsx",
                  f"Cookie: {cookie}", args.limit_rate),
    ]  # fmt: skip
    wanted = {"csv": downloads[0], "xlsx": downloads[1]}
    downloads = [wanted[name] for name in args.downloads.split(",") if name]
    saves: list[tuple[float, float, int]] = []
    cpu = sum(server_cpu_seconds(master).values())
    start = time.perf_counter()
    until = start + args.duration
    await asyncio.gather(
        *(d.run(until) for d in downloads),
        *(saving(port, item_id, token, args.pace, until, saves) for token in tokens),
    )
    seconds = time.perf_counter() - start
    cpu = sum(server_cpu_seconds(master).values()) - cpu
    spans = [span for d in downloads for span in d.in_flight]

    def during_download(at: float) -> bool:
        return not downloads or any(low <= at < high for low, high in spans)

    during = [(s, status) for at, s, status in saves if during_download(at)]
    ok = sorted(s for s, status in during if status == 200)
    return {
        "seconds": round(seconds, 1),
        "server_cpu_cores": round(cpu / seconds, 2),
        "saves_total": len(saves),
        "saves_during_downloads": len(during),
        "failed_saves": sum(1 for _at, _s, status in saves if status != 200),
        "statuses": {
            str(code): sum(1 for _at, _s, status in saves if status == code)
            for code in sorted({status for _at, _s, status in saves})
        },
        "p50_ms": percentile(ok, 0.50),
        "p90_ms": percentile(ok, 0.90),
        "p99_ms": percentile(ok, 0.99),
        "max_ms": round(1000 * ok[-1], 1) if ok else float("nan"),
        "downloads": {
            d.name: {
                "count": len(d.done),
                "statuses": sorted({x["status"] for x in d.done}),
                "mb": [round(x["bytes"] / 1e6, 1) for x in d.done],
                "seconds": [round(x["seconds"], 1) for x in d.done],
            }
            for d in downloads
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeded", required=True, help="SQLite file seeded by reports.py")
    parser.add_argument("--work", default="/tmp/vle-dl-run.sqlite3", help="the copy run on")
    parser.add_argument("--savers", type=int, default=100)
    parser.add_argument("--pace", type=float, default=1.0, help="seconds between a saver's saves")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--limit-rate", default=None, help="curl's --limit-rate, e.g. 2M")
    parser.add_argument(
        "--downloads", default="csv,xlsx", help="csv, xlsx, both, or '' (saves alone: a baseline)"
    )
    parser.add_argument("--commit", default=None, help="the code measured (default: git HEAD)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--server-log", default="/tmp/vle-dl-bench-server.log")
    parser.add_argument("--json", help="write the results here (JSON)")
    args = parser.parse_args(argv)
    if not 1 <= args.savers <= 1000 or not 1 <= args.duration <= 600:
        raise SystemExit("savers 1–1000, duration 1–600 s")
    work = Path(args.work)
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        Path(str(work) + suffix).unlink(missing_ok=True)
    shutil.copyfile(args.seeded, work)
    url = f"sqlite:///{work}"
    random.seed(1)
    item_id, tokens, admin_token = add_quiz(url, args.savers)
    load_before = round(os.getloadavg()[0], 2)
    log = Path(args.server_log)
    process = start_server(url, free_port(), args.workers, args.threads, 0, log)
    port = int(process.args[process.args.index("--port") + 1])
    try:
        result = asyncio.run(run(args, url, item_id, tokens, admin_token, port, process.pid))
    finally:
        stop_server(process)
    locked = log.read_text(errors="replace").count("database is locked")
    commit = args.commit or subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit,
        "savers": args.savers,
        "pace_s": args.pace,
        "limit_rate": args.limit_rate,
        "downloads_asked": args.downloads,
        "workers": args.workers,
        "threads": args.threads,
        "load_average_before": load_before,
        **result,
        "database_is_locked": locked,
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    met = result["failed_saves"] == 0 and not locked and result["p99_ms"] < TARGET_P99_MS
    print(
        f"saves during downloads: {result['saves_during_downloads']}, failed: "
        f"{result['failed_saves']}, p99 {result['p99_ms']} ms (target < {TARGET_P99_MS:g} ms): "
        f"{'met' if met else 'MISSED'}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
