"""A real `vle worker` (huey's consumer in its own process) sends what the app
queues on the SQLite queue file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from tests.mail.test_outbox import parts, queue_message
from vle import create_app, db
from vle.mail.models import OutboxMail


def test_vle_worker_sends_a_mail_queued_after_commit(tmp_path, _database, app, smtp_server):
    queue_url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    env = {
        **os.environ,
        "VLE_ENV": "production",
        "VLE_SECRET_KEY": app.config["SECRET_KEY"],
        "VLE_INSTANCE_PATH": str(tmp_path),
        "VLE_DATABASE_URL": _database["DATABASE_URL"],
        "VLE_QUEUE_URL": queue_url,
        "VLE_MAIL_SERVER": smtp_server.host,
        "VLE_MAIL_PORT": str(smtp_server.port),
    }
    vle = os.path.join(os.path.dirname(sys.executable), "vle")
    worker = subprocess.Popen(
        [vle, "worker", "--threads", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # The web side: the same database and queue file, tasks queued, not run at once.
    web = create_app({**_database, "QUEUE_URL": queue_url, "QUEUE_IMMEDIATE": False}, env="test")
    sessions = db.get_database(web).sessionmaker
    try:
        with web.app_context(), sessions() as session:
            assert queue_message(session, locale="pl") is True
            session.commit()
            assert smtp_server.messages == []  # queued, for the worker to send
        [message] = smtp_server.wait_for(1, timeout=30)
        assert message["Subject"] == "Safety day on Friday"
        assert "Kurs: Saugus darbas" in parts(message)[0]
        deadline = time.monotonic() + 10
        with sessions() as session:
            while session.scalar(select(OutboxMail.sent_at)) is None:
                assert time.monotonic() < deadline, "the worker never recorded the mail as sent"
                session.rollback()
                time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGINT)  # a graceful stop
        output = worker.communicate(timeout=30)[0].decode()
        db.get_database(web).engine.dispose()
    assert worker.returncode == 0, output
    assert "send_mail" in output  # its log names the task it ran


def _children(pid: int) -> dict[int, str]:
    listing = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return {int(line.split()[0]): line for line in listing.splitlines() if line.strip()}


def test_vle_demo_starts_a_worker_beside_the_server_and_stops_it_with_itself(tmp_path):
    from tests.conftest import free_port

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VLE_") or key == "VLE_COURSES_PATH"
    }
    env["VLE_INSTANCE_PATH"] = str(tmp_path)
    vle = os.path.join(os.path.dirname(sys.executable), "vle")
    demo = subprocess.Popen(
        [vle, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120  # the demo loads the search dictionaries first
        workers: dict[int, str] = {}
        while not workers:
            assert time.monotonic() < deadline and demo.poll() is None, "no worker started"
            workers = {p: a for p, a in _children(demo.pid).items() if "vle.cli worker" in a}
            time.sleep(0.2)
        [worker_pid] = workers
        # On the demo's SQLite queue, in its instance folder: no Redis needed.
        while not (tmp_path / "queue.sqlite3").exists():
            assert time.monotonic() < deadline, "the worker opened no queue"
            time.sleep(0.2)
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl+C
        output = demo.communicate(timeout=60)[0].decode()
    assert "with a worker for mail" in output
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{worker_pid}"):
        assert time.monotonic() < deadline, "the worker outlived the demo"
        time.sleep(0.1)
