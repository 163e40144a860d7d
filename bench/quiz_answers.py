"""Quiz autosave under load: many learners in one quiz at once, each saving an
answer every few seconds over the API and then submitting, against gunicorn
(`vle serve`).

    .venv/bin/python bench/quiz_answers.py                      # SQLite, fresh file
    createdb -h 127.0.0.1 -U postgres vle_quiz_bench
    .venv/bin/python bench/quiz_answers.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/vle_quiz_bench

It makes its own data in an empty database (the migrations, one organisation,
N learners with API tokens, one course with a 10-question quiz, everyone
enrolled), starts `vle serve`, and runs two phases:

- paced: every learner starts an attempt, saves one answer every `--pace`
  seconds (staggered, as people are) `--saves` times, then submits;
- flat out (`--saturate` seconds, 0 to skip): every learner saves back to back,
  which measures how many answer saves per second the server can take.

Then it checks the database: every answer the server acknowledged with 200 is
stored with the last value sent (zero lost answers), no response was a 5xx, and
the server log has no "database is locked". Reported: answer saves per second,
p50/p90/p99/max save latency, submits, errors. Only 127.0.0.1; the server is
stopped by its process group id when the run ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The HTTP client is client.py's; the server's start, stop and CPU reading are
# load.py's (run from bench/, as all three are).
from client import Connection  # noqa: E402
from load import free_port, server_cpu_seconds, start_server, stop_server  # noqa: E402

TARGET_P99_MS = 100.0

QUIZ = """\
::Capital::What is the capital of Lithuania?{=Vilnius ~Kaunas ~Riga ~Klaipėda}

::Colours::Which are colours of the Lithuanian flag?{~%50%Yellow ~%50%Green ~%-100%Blue ~%-100%White}

::Baltic::Lithuania is a Baltic state.{T}

::Year::In which year did Lithuania join the EU?{#2004:0}

::River::Name the longest river of Lithuania.{=Nemunas =Neman}

::Sea::Which sea is Lithuania on?{=Baltic ~North ~Black ~Mediterranean}

::Neighbours::Which countries border Lithuania?{~%25%Latvia ~%25%Belarus ~%25%Poland ~%25%Russia ~%-100%Estonia}

::Euro::Lithuania uses the euro.{T}

::Population::Roughly how many million people live in Lithuania?{#2.8:0.3}

::Pairs::Match the city to its country.{=Vilnius -> Lithuania =Warsaw -> Poland =Oslo -> Norway}
"""  # noqa: E501


# --- the data ---------------------------------------------------------------------------------


@dataclass
class Learner:
    email: str
    token: str
    attempt: int | None = None
    questions: list[dict[str, Any]] = field(default_factory=list)
    last_sent: dict[int, Any] = field(default_factory=dict)  # acknowledged with 200


def seed(database_url: str, learners: int) -> tuple[int, list[Learner]]:
    """Schema, learners with tokens, one quiz course with everyone enrolled."""
    from flask import Flask
    from sqlalchemy import select

    from vle import create_app, db
    from vle.accounts import services as accounts
    from vle.accounts.models import User
    from vle.catalog.models import Course, Item, Module
    from vle.learning import services as learning
    from vle.migrations import upgrade
    from vle.quizzes import gift
    from vle.quizzes import services as quizzes

    app: Flask = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "bench", "INSTANCE_PATH": "/tmp/vle-bench"},
        env="test",
    )
    with app.app_context():
        upgrade(app)
        session = db.session()
        if session.scalar(select(User.id).limit(1)) is not None:
            raise SystemExit("the database is not empty: give a fresh one (or --fresh for SQLite)")
        org = accounts.create_organisation(session, "BENCH", "Bench municipality", None)
        one_hash = accounts.hash_password("bench-quiz-password")
        users = []
        for n in range(learners):
            user = User(
                email=f"quiz{n:04d}@bench.example.org",
                name=f"Quiz learner {n}",
                password_hash=one_hash,
                role="learner",
                organisation_id=org.id,
            )
            session.add(user)
            users.append(user)
        session.flush()
        course = Course(slug="quiz-bench", title="Quiz bench", summary="", status="published")
        module = Module(slug="module", position=1, title="Module", prefix="01")
        item = Item(
            slug="quiz", position=1, prefix="01", kind="quiz", title="Bench quiz", source=QUIZ,
            settings={"pass_mark": 60, "layout": "all_on_one_page", "review": "after_submit",
                      "grading": "highest", "shuffle": True},
        )  # fmt: skip
        module.items.append(item)
        course.modules.append(module)
        session.add(course)
        session.flush()
        quizzes.sync_questions(session, item, gift.parse(QUIZ, source="bench.gift"))
        result = []
        for user in users:
            learning.enrol(session, user, course, method="manual")
            result.append(Learner(email=user.email, token=accounts.create_token(session, user)))
        session.commit()
        item_id = item.id
    db.get_database(app).engine.dispose()
    return item_id, result


def answer_for(question: dict[str, Any], turn: int) -> Any:
    """A valid answer that changes from one turn to the next."""
    kind = question["type"]
    if kind in ("single_choice", "true_false"):
        choices = question["choices"]
        return choices[turn % len(choices)]["id"]
    if kind == "multiple_choice":
        ids = sorted(c["id"] for c in question["choices"])  # stored in file order
        return ids[: 1 + turn % len(ids)]
    if kind == "matching":
        options = [o["id"] for o in question["options"]]
        return {
            stem["id"]: options[(turn + i) % len(options)]
            for i, stem in enumerate(question["stems"])
        }
    if kind == "numerical":
        return 2000 + turn
    return f"answer {turn}"


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    saves: list[float] = field(default_factory=list)  # seconds per acknowledged save
    started: list[float] = field(default_factory=list)  # when each of those was sent
    window: tuple[float, float] | None = None  # steady state: everyone started, nobody done
    server_cpu: float = 0.0  # seconds of gunicorn CPU during the phase
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self, steady: bool = False) -> dict[str, Any]:
        saves, seconds, name = self.saves, self.seconds, self.name
        if steady and self.window:
            low, high = self.window
            saves = [s for s, t in zip(self.saves, self.started, strict=True) if low <= t < high]
            seconds, name = high - low, f"{self.name} (steady state)"
        ordered = sorted(saves)

        def pct(share: float) -> float:
            if not ordered:
                return float("nan")
            rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))
            return round(1000 * ordered[min(rank, len(ordered)) - 1], 1)

        return {
            "phase": name,
            "answer_saves": len(ordered),
            "seconds": round(seconds, 1),
            "saves_per_s": round(len(ordered) / seconds, 1) if seconds else 0.0,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(1000 * ordered[-1], 1) if ordered else float("nan"),
            "statuses": dict(sorted(self.statuses.items())),
            "server_errors": sum(n for s, n in self.statuses.items() if s >= 500),
            "server_cpu_ms_per_request": round(
                1000 * self.server_cpu / max(1, sum(self.statuses.values())), 2
            )
            if self.server_cpu and not steady
            else None,
            "failures": self.failures[:5],
        }


def _api(port: int, token: str) -> Connection:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return Connection(port, headers=headers)


async def _call(conn: Connection, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Send `body` as JSON (if any); the status and the answer's JSON."""
    answer = await conn.request(method, path, json_body=body)
    return answer.status, answer.json()


async def save(conn: Connection, learner: Learner, turn: int, phase: Phase) -> None:
    question = learner.questions[turn % len(learner.questions)]
    value = answer_for(question, turn)
    started = time.perf_counter()
    try:
        status, body = await _call(
            conn,
            "PUT",
            f"/api/v1/attempts/{learner.attempt}/answers/{question['id']}",
            {"answer": value},
        )
    except (OSError, asyncio.IncompleteReadError) as error:
        phase.count(599)
        phase.failures.append(f"{learner.email}: {error!r}")
        return
    elapsed = time.perf_counter() - started
    phase.count(status)
    if status == 200:
        phase.saves.append(elapsed)
        phase.started.append(started)
        learner.last_sent[question["id"]] = value
    else:
        phase.failures.append(f"{learner.email}: PUT → {status} {body}")


async def paced(port: int, item_id: int, learners: list[Learner], pace: float, saves: int) -> Phase:
    phase = Phase("paced")
    submits: list[int] = []
    first_save: list[float] = []
    first_submit: list[float] = []

    async def one(learner: Learner) -> None:
        conn = _api(port, learner.token)
        await asyncio.sleep(random.uniform(0, pace))  # people do not start in step
        status, body = await _call(conn, "POST", f"/api/v1/quizzes/{item_id}/attempts")
        phase.count(status)
        if status not in (200, 201):
            phase.failures.append(f"{learner.email}: start → {status} {body}")
            await conn.close()
            return
        learner.attempt, learner.questions = body["id"], body["questions"]
        next_at = time.perf_counter()
        first_save.append(next_at)
        for turn in range(saves):
            next_at += pace
            await save(conn, learner, turn, phase)
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        first_submit.append(time.perf_counter())
        status, body = await _call(conn, "POST", f"/api/v1/attempts/{learner.attempt}/submit")
        phase.count(status)
        submits.append(status)
        if status != 200 or body.get("state") not in ("graded", "awaiting_grading"):
            phase.failures.append(f"{learner.email}: submit → {status} {body}")
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(one(learner) for learner in learners))
    phase.seconds = time.perf_counter() - started
    if first_save and first_submit and max(first_save) < min(first_submit):
        phase.window = (max(first_save), min(first_submit))
    return phase


async def flat_out(port: int, item_id: int, learners: list[Learner], seconds: float) -> Phase:
    """Fresh attempts, then back-to-back saves for `seconds`: capacity."""
    phase = Phase("flat out")
    state = {"stop": False}

    async def one(learner: Learner) -> None:
        conn = _api(port, learner.token)
        status, body = await _call(conn, "POST", f"/api/v1/quizzes/{item_id}/attempts")
        if status not in (200, 201):
            phase.failures.append(f"{learner.email}: start → {status} {body}")
            return
        learner.attempt, learner.questions = body["id"], body["questions"]
        learner.last_sent = {}
        while not state["stop"]:
            await save(conn, learner, len(learner.last_sent) + random.randrange(1000), phase)
        await conn.close()

    tasks = [asyncio.create_task(one(learner)) for learner in learners]
    await asyncio.sleep(2.0)  # everyone has started
    phase.saves.clear()
    phase.statuses.clear()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    state["stop"] = True
    phase.seconds = time.perf_counter() - started
    await asyncio.gather(*tasks)
    return phase


def lost_answers(database_url: str, learners: list[Learner]) -> list[str]:
    """Acknowledged answers missing from the database or stored with another value."""
    from sqlalchemy import create_engine, select

    from vle.quizzes.models import Answer

    engine = create_engine(database_url)
    problems = []
    with engine.connect() as conn:
        for learner in learners:
            if learner.attempt is None:
                continue
            stored = dict(
                conn.execute(
                    select(Answer.question_id, Answer.value).where(
                        Answer.attempt_id == learner.attempt
                    )
                ).all()
            )
            for question_id, value in learner.last_sent.items():
                if question_id not in stored:
                    problems.append(f"{learner.email}: answer to {question_id} missing")
                elif stored[question_id] != value:
                    problems.append(
                        f"{learner.email}: {question_id} stored {stored[question_id]!r}, "
                        f"sent {value!r}"
                    )
    engine.dispose()
    return problems


def server_cpu_total(master: int) -> float:
    """User + system CPU seconds of gunicorn's master and workers together."""
    return sum(server_cpu_seconds(master).values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("VLE_DATABASE_URL") or "sqlite:////tmp/vle-quiz-bench.sqlite3",
    )
    parser.add_argument("--fresh", action="store_true", help="SQLite: delete the file first")
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--pace", type=float, default=2.0, help="seconds between saves")
    parser.add_argument("--saves", type=int, default=30, help="answers each learner saves")
    parser.add_argument("--saturate", type=float, default=15.0, help="flat-out seconds; 0: skip")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--server-log", default="/tmp/vle-quiz-bench-server.log")
    parser.add_argument("--json", help="write the results here (JSON)")
    args = parser.parse_args(argv)
    if not 1 <= args.learners <= 1000 or args.saves > 1000 or args.saturate > 300:
        raise SystemExit("learners 1–1000, saves ≤ 1000, saturate ≤ 300 s")
    url = args.database_url
    if url.startswith("sqlite:///") and args.fresh:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    random.seed(1)
    load_before = round(os.getloadavg()[0], 2)
    item_id, learners = seed(url, args.learners)
    log = Path(args.server_log)
    # No cap on a worker's connections (gunicorn's default): 200 learners keep 200 alive.
    process = start_server(url, free_port(), args.workers, args.threads, 0, log)
    port = int(process.args[process.args.index("--port") + 1])
    try:
        cpu = server_cpu_total(process.pid)
        phases = [asyncio.run(paced(port, item_id, learners, args.pace, args.saves))]
        phases[0].server_cpu = server_cpu_total(process.pid) - cpu
        lost = lost_answers(url, learners)
        if args.saturate:
            cpu = server_cpu_total(process.pid)
            phases.append(asyncio.run(flat_out(port, item_id, learners, args.saturate)))
            phases[-1].server_cpu = server_cpu_total(process.pid) - cpu
            lost += lost_answers(url, learners)
    finally:
        stop_server(process)
    locked = log.read_text(errors="replace").count("database is locked")
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "database": url.split("://")[0],
        "workers": args.workers,
        "threads": args.threads,
        "learners": args.learners,
        "pace_s": args.pace,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "phases": [phases[0].summary(), phases[0].summary(steady=True)]
        + [phase.summary() for phase in phases[1:]],
        "lost_answers": len(lost),
        "lost_samples": lost[:5],
        "database_is_locked": locked,
    }
    print(
        f"{report['database']}, {args.workers} workers × {args.threads} threads, "
        f"{args.learners} learners, {report['cpus']} CPUs, load average {load_before} before, "
        f"{report['date']}"
    )
    print(
        "| Phase | Answer saves | Seconds | Saves/s | p50 ms | p90 ms | p99 ms | max ms | 5xx "
        "| server CPU ms/request |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for p in report["phases"]:
        print(
            f"| {p['phase']} | {p['answer_saves']} | {p['seconds']} | {p['saves_per_s']} | "
            f"{p['p50_ms']} | {p['p90_ms']} | {p['p99_ms']} | {p['max_ms']} | "
            f"{p['server_errors']} | {p['server_cpu_ms_per_request'] or '—'} |"
        )
    paced_phase = report["phases"][0]
    print(
        f"statuses (paced): {paced_phase['statuses']}; offered: {args.learners / args.pace:g} saves/s"
    )
    print(f"lost answers: {len(lost)}; 'database is locked' in the server log: {locked}")
    for phase in report["phases"]:
        if phase["failures"]:
            print(f"{phase['phase']} failures, e.g.: {phase['failures']}")
    met = paced_phase["p99_ms"] < TARGET_P99_MS
    print(f"p99 of saving an answer (paced, start to submit): {paced_phase['p99_ms']} ms (target < 100 ms): "
          f"{'met' if met else 'MISSED'}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    ok = met and not lost and not locked and all(p["server_errors"] == 0 for p in report["phases"])
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
