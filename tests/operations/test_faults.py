"""Faults survived, on real parts (issue 20): 200 learners save quiz answers
through a real `vle serve --workers 2 --threads 4`, 32 at a time, while one
gunicorn worker is killed with SIGKILL, the whole server is restarted, and (in
the PostgreSQL run of the suite) the database is restarted.

Each learner saves its answers one after another, as the quiz page does, and
sends a save again after a failure until it is acknowledged. Afterwards every
answer acknowledged with 200 is stored with its value and every attempt resumes
with them; during the outage a request got 200 or failed cleanly (503 with a
JSON error for the API, the styled error page for people, or no connection
while no server listened), and saving recovered by itself.

The database restart uses a PostgreSQL cluster of the test's own (initdb into a
temporary directory, on a free port), never the machine's shared one. Run with
`-s` to see each fault's outage and failed requests (bench/README.md, "Faults").
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import free_port, start_vle_serve
from vle import create_app, db
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.catalog.models import Course, Item, Module
from vle.learning import services as learning
from vle.migrations import upgrade
from vle.quizzes import gift
from vle.quizzes import services as quizzes
from vle.quizzes.models import Answer

LEARNERS = 200
CLIENTS = 32
SAVES = 4  # per learner: one answer to each question
FAULT_AFTER = 150  # acknowledged saves before the fault strikes
GIVE_UP_S = 60.0  # a learner still failing this long after the start fails the test
QUIZ = "\n\n".join(f"::Q{n}::Say something about {n}.{{}}" for n in range(1, SAVES + 1))


# --- the data --------------------------------------------------------------------------------


@dataclass
class Learner:
    number: int
    token: str
    attempt: int
    questions: list[int]


def arrange(app: Flask) -> list[Learner]:
    """200 learners with tokens, enrolled in one quiz, each with an attempt started."""
    db_session = db.get_database(app).sessionmaker()
    with app.app_context():
        org = accounts.create_organisation(db_session, "FAULTS", "Faults")
        one_hash = accounts.hash_password("faults-password")
        users = [
            User(email=f"learner{n}@faults.example.org", name=f"Learner {n}",
                 password_hash=one_hash, role="learner", organisation_id=org.id)
            for n in range(LEARNERS)
        ]  # fmt: skip
        db_session.add_all(users)
        course = Course(slug="faults", title="Faults", summary="", status="published")
        item = Item(slug="quiz", position=1, prefix="01", kind="quiz", title="Quiz", source=QUIZ,
                    settings={"pass_mark": 60, "attempts": None, "shuffle": False})  # fmt: skip
        module = Module(slug="module", position=1, title="Module", prefix="01", items=[item])
        course.modules.append(module)
        db_session.add(course)
        db_session.flush()
        quizzes.sync_questions(db_session, item, gift.parse(QUIZ, source="faults.gift"))
        learners = []
        for n, user in enumerate(users):
            learning.enrol(db_session, user, course, method="manual")
            token = accounts.create_token(db_session, user)
            attempt, _created = quizzes.start_attempt(db_session, user, course, item)
            db_session.flush()
            learners.append(Learner(n, token, attempt.id, list(attempt.question_ids)))
        db_session.commit()
    db_session.close()
    return learners


# --- the server and its parts ----------------------------------------------------------------


def start_server(instance: Path, database_url: str, port: int | None = None) -> Any:
    with open(instance / "server.log", "ab") as log:  # read when a test fails
        return start_vle_serve(
            instance, database_url, "--workers", "2", "--threads", "4", port=port, stdout=log
        )


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def workers_of(pid: int) -> set[int]:
    """The gunicorn workers: the server process's children, read from /proc."""
    children = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.split("/")[2]))
    return children


@contextmanager
def own_postgresql() -> Iterator[tuple[str, Callable[[], None]]]:
    """A PostgreSQL cluster of this test's own on a free port: (its URL, restart).
    initdb and pg_ctl refuse root, so as root they run as the postgres user."""
    binaries = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
    as_owner: list[str] = []
    home = Path(tempfile.mkdtemp(prefix="vle-faults-pg-"))  # /tmp: the owner can reach it
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(home, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", free_port()

    def pg_ctl(*args: str) -> None:
        subprocess.run(
            [*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(home / "log"),
             "-w", "-t", "60", *args],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    subprocess.run(
        [*as_owner, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
         "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c max_connections=50"
    pg_ctl("-o", options, "start")
    try:
        yield (
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
            lambda: pg_ctl("-m", "fast", "restart"),
        )
    finally:
        pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Run:
    base: str
    acknowledged: dict[tuple[int, int], str] = field(default_factory=dict)
    saved: int = 0  # acknowledged saves so far
    delayed: int = 0  # of those, saves that had to be sent more than once
    failed: list[tuple[float, float, str]] = field(default_factory=list)  # API: began, ended, what
    pages: list[str] = field(default_factory=list)  # what people's pages got, other than 200
    unclean: list[str] = field(default_factory=list)
    gave_up: list[int] = field(default_factory=list)
    fault: tuple[float, float] = (0.0, 0.0)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def outage(self) -> float:
        """From the first failed request to the first save acknowledged after the last."""
        if not self.failed:
            return 0.0
        return max(ended for _b, ended, _w in self.failed) - min(b for b, _e, _w in self.failed)


def call(url: str, method: str = "GET", body: Any = None, token: str = "") -> Any:
    """(status, content type, body text), or the text of a connection error."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - 127.0.0.1
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()
    except (OSError, http.client.HTTPException) as error:  # refused, reset, cut: no answer
        return f"connection error: {error!r}"


def save_answers(run: Run, learner: Learner, started: float) -> None:
    for turn, question in enumerate(learner.questions):
        value = f"learner {learner.number}, answer {turn}"
        sends = 0
        while True:
            sends += 1
            began = time.monotonic()
            url = f"{run.base}/api/v1/attempts/{learner.attempt}/answers/{question}"
            outcome = call(url, "PUT", {"answer": value}, learner.token)
            ended = time.monotonic()
            if isinstance(outcome, tuple) and outcome[0] == 200:
                with run.lock:
                    run.acknowledged[(learner.attempt, question)] = value
                    run.saved += 1
                    run.delayed += sends > 1
                break
            if isinstance(outcome, tuple):
                status, kind, text = outcome
                clean = status == 503 and kind == "application/json"
                clean = clean and {"error", "request_id"} <= set(json.loads(text))
                if not clean:
                    run.unclean.append(f"PUT {status} {kind}: {text[:200]}")
                outcome = f"{status}"
            with run.lock:
                run.failed.append((began, ended, outcome))
            if ended - started > GIVE_UP_S:
                run.gave_up.append(learner.number)
                return
            time.sleep(0.1)  # then the same save again, as the quiz page does


def look_at_pages(run: Run, done: threading.Event) -> None:
    """A person reloading the front page (which reads the database) meanwhile."""
    while not done.is_set():
        outcome = call(f"{run.base}/")
        if isinstance(outcome, str):
            run.pages.append(outcome)
        elif outcome[0] != 200:
            status, kind, text = outcome
            run.pages.append(str(status))
            if not (
                status == 503
                and kind.startswith("text/html")
                and "Service unavailable</h1>" in text
            ):
                run.unclean.append(f"GET / {status} {kind}: {text[:200]}")
        time.sleep(0.05)


def run_with_fault(run: Run, learners: list[Learner], fault: Callable[[], None]) -> None:
    done = threading.Event()

    def strike() -> None:
        while run.saved < FAULT_AFTER and not done.is_set():
            time.sleep(0.01)
        began = time.monotonic()
        fault()
        run.fault = (began, time.monotonic())

    striker = threading.Thread(target=strike)
    looker = threading.Thread(target=look_at_pages, args=(run, done))
    striker.start()
    looker.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda learner: save_answers(run, learner, started), learners))
    finally:
        striker.join()
        done.set()
        looker.join()


def check_survived(run: Run, app: Flask, learners: list[Learner], name: str) -> None:
    kinds = ", ".join(sorted({what.split(":")[0] for _b, _e, what in run.failed})) or "none"
    print(
        f"\n{name}: outage {run.outage():.2f} s, fault took {run.fault[1] - run.fault[0]:.2f} s;"
        f" {run.saved} saves acknowledged, {run.delayed} of them sent again;"
        f" {len(run.failed)} API requests failed ({kinds}), {len(run.pages)} page loads failed"
    )
    assert not run.unclean, run.unclean[:5]
    assert not run.gave_up, f"{len(run.gave_up)} learners could not save within {GIVE_UP_S} s"
    assert run.fault != (0.0, 0.0), "the fault struck after the run"
    assert len(run.acknowledged) == LEARNERS * SAVES

    # Every acknowledged answer is stored with its value ...
    db.get_database(app).engine.dispose()  # the test's own connections died with a restart
    db_session = db.get_database(app).sessionmaker()
    stored = {
        (a, q): v
        for a, q, v in db_session.execute(
            select(Answer.attempt_id, Answer.question_id, Answer.value)
        )
    }
    db_session.close()
    assert stored == run.acknowledged

    # ... and every attempt resumes with them, over the API.
    def resume(learner: Learner) -> Any:
        status, _kind, text = call(
            f"{run.base}/api/v1/attempts/{learner.attempt}", token=learner.token
        )
        assert status == 200, text
        return json.loads(text)

    with ThreadPoolExecutor(CLIENTS) as pool:
        attempts = list(pool.map(resume, learners))
    for learner, attempt in zip(learners, attempts, strict=True):
        assert attempt["state"] == "open"
        assert attempt["answers"] == {
            str(q): run.acknowledged[(learner.attempt, q)] for q in learner.questions
        }


FAULTS = ["kill -9 a worker", "restart the server"]
if os.environ.get("VLE_TEST_DATABASE_URL"):  # PostgreSQL is the suite's database
    FAULTS.append("restart the database")


@pytest.fixture(scope="module")
def server(_database: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server on the suite's database for the module (a start takes seconds)."""
    instance = tmp_path_factory.mktemp("faults")
    process, port = start_server(instance, _database["DATABASE_URL"])
    held = Server(process, port, instance, _database["DATABASE_URL"])
    yield held
    stop_server(held.process)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    instance: Path
    database_url: str


@pytest.mark.parametrize("fault", FAULTS)
def test_acknowledged_answers_survive_and_saving_recovers(fault, request, tmp_path):
    if fault != "restart the database":
        survive(fault, request.getfixturevalue("app"), request.getfixturevalue("server"))
        return
    with own_postgresql() as (url, restart_database):
        app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url}, env="test")
        with app.app_context():
            upgrade(app)
        process, port = start_server(tmp_path, url)
        held = Server(process, port, tmp_path, url)
        try:
            survive(fault, app, held, restart_database)
        finally:
            stop_server(held.process)
            db.get_database(app).engine.dispose()


def survive(
    fault: str, app: Flask, server: Server, restart_database: Callable[[], None] = lambda: None
) -> None:
    learners = arrange(app)
    run = Run(f"http://127.0.0.1:{server.port}")
    killed = []

    def kill_a_worker() -> None:
        workers = workers_of(server.process.pid)
        assert len(workers) == 2
        killed.append(min(workers))
        os.kill(killed[0], signal.SIGKILL)

    def restart_server() -> None:
        stop_server(server.process)
        server.process, _port = start_server(server.instance, server.database_url, server.port)

    faults = {
        "kill -9 a worker": kill_a_worker,
        "restart the server": restart_server,
        "restart the database": restart_database,
    }
    run_with_fault(run, learners, faults[fault])
    check_survived(run, app, learners, fault)
    if killed:  # gunicorn started another worker in its place
        workers = workers_of(server.process.pid)
        assert len(workers) == 2 and killed[0] not in workers


def test_a_database_that_does_not_answer_gives_503_never_500(app, client, session, make_user):
    # What a request meets while the database restarts: its connection cut.
    from flask import request
    from flask_login import current_user
    from sqlalchemy.exc import OperationalError

    from tests.conftest import login

    def cut() -> None:
        assert current_user.is_authenticated == (request.path == "/cut")  # the user is loaded
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    app.add_url_rule("/api/v1/cut", "api_cut", cut)
    app.add_url_rule("/cut", "cut", cut)

    response = client.get("/api/v1/cut")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"]["code"] == "unavailable"
    assert "try again" in body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert response.headers["Retry-After"] == "5"

    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    page = client.get("/cut")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "<h1>Service unavailable</h1>" in text and "try again in a moment" in text
    assert response.headers["X-Request-Id"] != page.headers["X-Request-Id"]
    assert page.headers["X-Request-Id"] in text  # the reference to quote
