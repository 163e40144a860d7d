"""The background queue: one huey instance for the whole app, and the
decorators that make a function a task of it.

Where the queue lives comes from `VLE_QUEUE_URL`: `redis://…` in production,
by default a SQLite file in the instance folder (`queue.sqlite3`), so the
embedded default needs no Redis. The tests run every task at once, in the
caller's thread (huey's immediate mode, `QUEUE_IMMEDIATE`). `vle worker` runs
the consumer: the tasks queued, and the periodic ones on their schedule.

How a floor above defines a task (say in `vle/learning/tasks.py`, imported by
its `services.py` so that the task is registered wherever the app runs)::

    from vle import db
    from vle.mail.queue import crontab, periodic_task, task

    @task(retries=3, retry_delay=60)
    def assign_everyone(assignment_id: int) -> None:
        with db.transaction() as db_session:
            ...

    @periodic_task(crontab(hour="6", minute="0"))
    def send_reminders() -> None:
        ...

Calling `assign_everyone(42)` queues the call and returns at once; the worker
runs it inside an app context of its own, with its own database session
(`db.session()`, closed when the task ends): write in `db.transaction()`.
Arguments travel pickled, so pass ids, never ORM objects. Queue a task after
the change it depends on is committed (the worker would not see it before):
`after_commit(db_session, assign_everyone, 42)` does, and never queues it if
the transaction rolls back.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

from vle import db

__all__ = [
    "after_commit",
    "crontab",
    "enqueue",
    "huey",
    "init_app",
    "periodic_task",
    "queue_or_run",
    "run_consumer",
    "task",
]

logger = logging.getLogger(__name__)

# After the queue failed to take a task, it is not asked again for this long:
# a stalled Redis costs one request its REDIS_TIMEOUT, not every call of each.
UNREACHABLE_PAUSE_S = 30.0


class _Queue(Huey):
    """huey, told where its storage is when the app is made (the module-level
    instance must exist before, for the tasks to register with it), and which
    opens that storage only when first used: making an app connects nowhere."""

    _storage: Any = None
    _unreachable_until = 0.0  # time.monotonic() before which the queue is not asked

    @property
    def storage(self) -> Any:
        if self._storage is None:
            self._storage = self.create_storage()
        return self._storage

    @storage.setter
    def storage(self, value: Any) -> None:
        self._storage = value

    def configure(self, url: str, immediate: bool, timeout: float) -> None:
        """`timeout`: seconds Redis may take to answer (a stalled one fails
        the call rather than hang the request)."""
        if url.startswith(("redis://", "rediss://", "unix://")):
            self.storage_class = RedisStorage
            self.storage_kwargs = {
                "connection_pool": redis.ConnectionPool.from_url(
                    url, socket_timeout=timeout, socket_connect_timeout=timeout
                ),
                # The worker's blocking wait for a task, within the socket's timeout.
                "read_timeout": timeout / 2,
            }
        elif url.startswith("sqlite:///"):
            filename = Path(url.removeprefix("sqlite:///"))
            self.storage_class = SqliteStorage
            self.storage_kwargs = {"filename": str(filename)}
        elif url == "memory://":
            self.storage_class, self.storage_kwargs = MemoryStorage, {}
        else:
            raise RuntimeError(
                "VLE_QUEUE_URL must be redis://…, sqlite:///PATH or memory://, "
                f"not {url.split(':', 1)[0]!r}"
            )
        self._immediate = immediate
        self._storage = None
        self._unreachable_until = 0.0

    def get_storage(self, **kwargs: Any) -> Any:
        if self.storage_class is SqliteStorage:
            Path(kwargs["filename"]).parent.mkdir(parents=True, exist_ok=True)
        return super().get_storage(**kwargs)


# No task results are kept: tasks write what they do to the database.
huey = _Queue("vle", results=False, storage_class=MemoryStorage)

_app: Flask | None = None


def queue_url(app: Flask) -> str:
    return app.config.get("QUEUE_URL") or f"sqlite:///{Path(app.instance_path) / 'queue.sqlite3'}"


def init_app(app: Flask) -> None:
    """Point the queue at the app's storage; tasks run in this app's context
    in a worker (in immediate mode, in the caller's app if it has one)."""
    global _app
    huey.configure(
        queue_url(app), bool(app.config.get("QUEUE_IMMEDIATE")), app.config["REDIS_TIMEOUT"]
    )
    _app = app
    sessions = db.get_database(app).sessionmaker
    event.listen(sessions, "after_commit", _queue_after_commit)
    event.listen(sessions, "after_rollback", _forget_after_commit)


# Where `after_commit` keeps the calls to queue once the session commits.
_AFTER_COMMIT = "vle.queue.after_commit"


def after_commit(db_session: Session, queued_task: Any, *args: Any) -> None:
    """Queue `queued_task(*args)` (a function decorated with `task`) once
    `db_session`'s transaction commits; never if it rolls back."""
    db_session.info.setdefault(_AFTER_COMMIT, []).append((queued_task, args))


def _forget_after_commit(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        return  # a savepoint rolled back: the transaction that queued goes on
    db_session.info.pop(_AFTER_COMMIT, None)


def _queue_after_commit(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        return  # SQLAlchemy says "commit" of a savepoint too: wait for the real one
    for queued_task, args in db_session.info.pop(_AFTER_COMMIT, ()):
        try:
            queue_or_run(queued_task, *args)
        except Exception:  # committed already: the request must not fail now
            logger.exception("%s failed", _name(queued_task))


def _name(queued_task: Any) -> str:
    return str(queued_task.task_class.__name__)


def enqueue(queued_task: Any, *args: Any) -> bool:
    """Queue `queued_task(*args)` (in immediate mode, run it: its errors are
    raised). False, logged, when the queue is out of reach (Redis down or
    stalled), or was less than UNREACHABLE_PAUSE_S ago."""
    if time.monotonic() < huey._unreachable_until:
        logger.warning("%s not queued: the queue was out of reach a moment ago", _name(queued_task))
        return False
    try:
        queued_task(*args)
    except Exception:  # the storage's own errors: redis, sqlite3
        if huey.immediate:  # it ran, and failed
            raise
        huey._unreachable_until = time.monotonic() + UNREACHABLE_PAUSE_S
        logger.warning("%s could not be queued", _name(queued_task), exc_info=True)
        return False
    return True


def queue_or_run(queued_task: Any, *args: Any) -> None:
    """Queue `queued_task(*args)`; should the queue be out of reach, run it
    here and now rather than lose it: the request is slower, and its change
    (and the audit entry saying it was made) is not left undone."""
    if not enqueue(queued_task, *args):
        queued_task.call_local(*args)


@contextmanager
def _task_context() -> Iterator[None]:
    app = current_app._get_current_object() if has_app_context() else _app  # type: ignore[attr-defined]
    if app is None:
        raise RuntimeError("the queue has no app: create_app() was never called")
    # A context of its own, even when nested in a request (immediate mode):
    # its own `g`, so its own database session, closed when it ends.
    with app.app_context():
        yield


def _in_app_context(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _task_context():
            return func(*args, **kwargs)

    return run


def task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`huey.task(**options)` for a function that runs in an app context with
    its own database session."""

    def decorator(func: Callable[..., Any]) -> Any:
        return huey.task(**options)(_in_app_context(func))

    return decorator


def periodic_task(schedule: Any, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`huey.periodic_task(schedule, **options)`, likewise. `vle worker` runs
    it on its schedule (a `crontab(...)`)."""

    def decorator(func: Callable[..., Any]) -> Any:
        return huey.periodic_task(schedule, **options)(_in_app_context(func))

    return decorator


def run_consumer(threads: int = 2, log_level: str = "info") -> None:
    """`vle worker`: run the queued tasks in `threads` threads, and the
    periodic ones on their schedule, until SIGINT (finish the running tasks
    first) or SIGTERM (stop now; an interrupted mail is sent again by the
    sweep)."""
    if huey.immediate:
        raise RuntimeError("the queue runs tasks at once here (QUEUE_IMMEDIATE): no worker needed")
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # An idle worker looks at a SQLite queue at least every 2 s (huey's
    # default backs off to 10 s), so a password reset link comes at once.
    huey.create_consumer(workers=threads, worker_type="thread", periodic=True, max_delay=2.0).run()


def start_worker(app: Flask, log_level: str = "warning") -> subprocess.Popen[bytes]:
    """`vle worker` in a process of its own beside `app` (for `vle demo`), on
    the same database and queue; `stop_worker` ends it. Should this process
    die without stopping it, Linux ends it too."""
    env = {
        **os.environ,
        "VLE_ENV": app.config["ENV_NAME"],
        "VLE_INSTANCE_PATH": app.instance_path,
        "VLE_QUEUE_URL": queue_url(app),
        "VLE_SECRET_KEY": app.config["SECRET_KEY"],
    }
    if app.config.get("DATABASE_URL"):
        env["VLE_DATABASE_URL"] = app.config["DATABASE_URL"]
    command = [sys.executable, "-m", "vle.cli", "worker", "--log-level", log_level]
    return subprocess.Popen(command, env=env, preexec_fn=_end_with_parent)  # noqa: S603  # nosec B603


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # let a mail being sent finish
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _end_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: stop_worker alone ends it
        pass
