"""The production queue: huey on Redis (VLE_QUEUE_URL=redis://…), a real
`vle worker` process consuming it, a mail that reaches the SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from tests.mail.test_outbox import parts, queue_message
from vle import create_app, db
from vle.mail.models import OutboxMail
from vle.mail.queue import huey

REDIS = "redis://127.0.0.1:6379/11"  # a database of its own, emptied of this queue first


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"no Redis at 127.0.0.1:6379 ({error})")


def test_vle_worker_on_redis_sends_a_mail_queued_after_commit(
    tmp_path, _database, app, smtp_server
):
    _redis_or_skip()
    env = {
        **os.environ,
        "VLE_ENV": "production",
        "VLE_SECRET_KEY": app.config["SECRET_KEY"],
        "VLE_INSTANCE_PATH": str(tmp_path),
        "VLE_DATABASE_URL": _database["DATABASE_URL"],
        "VLE_QUEUE_URL": REDIS,
        "VLE_MAIL_SERVER": smtp_server.host,
        "VLE_MAIL_PORT": str(smtp_server.port),
    }
    # The web side: the same database and Redis queue; tasks queued, not run at once.
    web = create_app({**_database, "QUEUE_URL": REDIS, "QUEUE_IMMEDIATE": False}, env="test")
    assert type(huey.storage).__name__ == "RedisStorage"
    huey.flush()  # nothing left from an earlier run
    vle = os.path.join(os.path.dirname(sys.executable), "vle")
    worker = subprocess.Popen(
        [vle, "worker", "--threads", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    sessions = db.get_database(web).sessionmaker
    try:
        with web.app_context(), sessions() as session:
            assert queue_message(session, locale="lt") is True
            session.commit()
            assert smtp_server.messages == []  # on the Redis queue, for the worker
        [message] = smtp_server.wait_for(1, timeout=30)
        assert message["Subject"] == "Safety day on Friday"
        assert message["Content-Language"] == "lt"
        assert "Kursas: Saugus darbas" in parts(message)[0]  # in Lithuanian
        deadline = time.monotonic() + 10
        with sessions() as session:
            while session.scalar(select(OutboxMail.sent_at)) is None:
                assert time.monotonic() < deadline, "the worker never recorded the mail as sent"
                session.rollback()
                time.sleep(0.1)
        # Taken off the Redis queue. (The worker's periodic tasks pass through the
        # same queue at the turn of a minute: give one of those its moment.)
        deadline = time.monotonic() + 10
        while huey.pending_count():
            assert time.monotonic() < deadline, "tasks left on the Redis queue"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGINT)  # a graceful stop
        output = worker.communicate(timeout=30)[0].decode()
        huey.flush()
        db.get_database(web).engine.dispose()
    assert worker.returncode == 0, output
    assert "send_mail" in output  # its log names the task it ran
