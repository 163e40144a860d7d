"""Readiness: whether the parts a request needs answer — the database, Redis
(when the rate limits or the queue live there) and the queue.

Each check runs in a thread of its own and is given CHECK_TIMEOUT_S: a part
that accepts a connection and then says nothing (a stalled Redis) is reported
as not answering instead of holding the probe. A check still stuck from an
earlier probe is not started again, so a long stall holds one thread per
check, however often the proxy asks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from flask import Flask
from sqlalchemy import text

from vle import db
from vle.mail.queue import huey

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 1.5
OK, FAILED, NO_ANSWER = "ok", "failed", "no answer"
REDIS_SCHEMES = ("redis://", "rediss://")

# The checks still running, by name (stalled ones: see the module's docstring).
_running: dict[str, threading.Thread] = {}
_running_lock = threading.Lock()


def redis_urls(app: Flask) -> list[str]:
    """The Redis servers the app uses: the rate limits' storage and the queue's."""
    urls = [app.config.get("RATELIMIT_STORAGE_URL"), app.config.get("QUEUE_URL")]
    return list(dict.fromkeys(u for u in urls if u and u.startswith(REDIS_SCHEMES)))


def readiness(app: Flask) -> dict[str, str]:
    """Each part's answer: OK, FAILED (it answered with an error, or refused the
    connection) or NO_ANSWER (not within CHECK_TIMEOUT_S)."""
    checks: dict[str, Callable[[], object]] = {"database": lambda: _database(app)}
    urls = redis_urls(app)
    if urls:
        checks["redis"] = lambda: _redis(urls)
    checks["queue"] = _queue
    results: dict[str, str] = {}
    threads = {name: _start(name, check, results) for name, check in checks.items()}
    deadline = time.monotonic() + CHECK_TIMEOUT_S
    for name, thread in threads.items():
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        if name not in results:
            logger.warning("readiness: %s did not answer within %s s", name, CHECK_TIMEOUT_S)
    return {name: results.get(name, NO_ANSWER) for name in checks}


def _start(
    name: str, check: Callable[[], object], results: dict[str, str]
) -> threading.Thread | None:
    def run() -> None:
        try:
            check()
            results[name] = OK
        except Exception:
            logger.warning("readiness: %s failed", name, exc_info=True)
            results[name] = FAILED
        finally:
            with _running_lock:
                _running.pop(name, None)

    with _running_lock:
        if name in _running:
            return None  # still stuck since an earlier probe
        thread = _running[name] = threading.Thread(
            target=run, name=f"readiness-{name}", daemon=True
        )
    thread.start()
    return thread


def _database(app: Flask) -> None:
    with db.get_database(app).engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _redis(urls: list[str]) -> None:
    for url in urls:
        client = redis.Redis.from_url(
            url, socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S
        )
        try:
            client.ping()
        finally:
            client.close()


def _queue() -> None:
    huey.storage.queue_size()
