"""Test app, database and small factories.

The schema is made once per run by the Alembic migrations (on SQLite by default,
on PostgreSQL when VLE_TEST_DATABASE_URL is set); every test starts from empty
tables.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, make_url, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from vle import create_app, db
from vle.accounts import services as accounts
from vle.accounts.models import Organisation, User
from vle.catalog.models import Course, Item, Module
from vle.db import Base
from vle.extensions import limiter
from vle.migrations import upgrade
from vle.sanitize import markdown_to_html

PASSWORD = "correct horse battery"
SHARED_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


# Tests hash passwords with scrypt at 1/32 of the work (N=2**10 where werkzeug's
# default, which vle uses, is 2**15): still a real salted scrypt hash, checked for
# real at sign-in, but a test making twenty accounts no longer spends seconds on them.
TEST_HASH_METHOD = "scrypt:1024:8:1"


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashes() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts,
            "generate_password_hash",
            functools.partial(generate_password_hash, method=TEST_HASH_METHOD),
        )
        patch.setattr(
            accounts, "_DUMMY_HASH", generate_password_hash("dummy", method=TEST_HASH_METHOD)
        )
        yield


@contextmanager
def _database_of_this_worker(url: str) -> Iterator[str]:
    """The PostgreSQL database this test process uses. Run in parallel (pytest-xdist:
    `-n auto`, as `make test` and .ci/run do), each worker makes a fresh database
    of its own beside the given one (`<name>_gw0`, …) and drops it afterwards; a
    single process uses the given database as it is."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        yield url
        return
    given = make_url(url)
    name = f"{given.database}_{worker}"
    server = create_engine(given, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield given.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session")
def _database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    instance = tmp_path_factory.mktemp("instance")
    given = os.environ.get("VLE_TEST_DATABASE_URL")
    with (
        _database_of_this_worker(given)
        if given
        else nullcontext(f"sqlite:///{instance / 'test.sqlite3'}") as url
    ):
        settings = {"INSTANCE_PATH": str(instance), "DATABASE_URL": url}
        app = create_app(settings, env="test")
        with app.app_context():
            upgrade(app)
        db.get_database(app).engine.dispose()
        yield settings


def _empty_tables(app: Flask) -> None:
    engine = db.get_database(app).engine
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            connection.execute(text("UPDATE organisations SET parent_id = NULL"))
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names


_WRITES = ("INSERT", "UPDATE", "DELETE", "SAVEPOINT")


def _no_writes_while_reading(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """A request that only reads runs without a transaction (vle.db._reads_only):
    a write there would not be atomic. Every test checks that none happens."""
    if conn.info.get(db.READS_ONLY) and statement.lstrip().upper().startswith(_WRITES):
        raise AssertionError(f"a write outside a write transaction: {statement[:80]}")


@pytest.fixture
def app(_database: dict[str, Any]) -> Iterator[Flask]:
    """The test app. Its background tasks run at once, in the caller (huey's
    immediate mode: TestConfig.QUEUE_IMMEDIATE); a mail queued in a transaction
    is sent when it commits, to `smtp_server` when a test asks for one."""
    app = create_app(dict(_database), env="test")
    event.listen(db.get_database(app).engine, "before_cursor_execute", _no_writes_while_reading)
    _empty_tables(app)
    with app.app_context():
        limiter.reset()
    yield app
    db.get_database(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """Runs the `vle` command group against the test app."""
    from vle.cli import cli

    class Runner:
        def __init__(self) -> None:
            self._runner = app.test_cli_runner()

        def invoke(self, args: list[str], **kwargs: Any) -> Any:
            return self._runner.invoke(cli, args=args, **kwargs)

    return Runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session for arranging and checking data. It pushes no app
    context: requests made meanwhile must get their own `g`, as in production."""
    db_session = db.get_database(app).sessionmaker()
    yield db_session
    db_session.close()


@pytest.fixture
def make_org(session: Session) -> Callable[..., Organisation]:
    counter = iter(range(1, 10_000))

    def make(
        code: str | None = None, parent: Organisation | None = None, name: str = ""
    ) -> Organisation:
        code = code or f"ORG{next(counter)}"
        org = accounts.create_organisation(
            session, code, name or f"Organisation {code}", parent.code if parent else None
        )
        session.commit()
        return org

    return make


@pytest.fixture
def make_user(session: Session, make_org: Callable[..., Organisation]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(
        role: str = "learner",
        org: Organisation | None = None,
        email: str | None = None,
        network: bool = False,
        name: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        org = org or session.scalar(select(Organisation).limit(1)) or make_org()
        n = next(counter)
        user = accounts.create_user(
            session,
            email or f"{role}{n}@example.org",
            name or f"{role.title()} {n}",
            role,
            org.code,
            password=password,
            network=network,
        )
        session.commit()
        return user

    return make


@pytest.fixture
def make_course(session: Session) -> Callable[..., Course]:
    counter = iter(range(1, 10_000))

    def make(
        slug: str | None = None,
        status: str = "published",
        lessons: int = 3,
        modules: int = 1,
        key: str | None = None,
        title: str | None = None,
        trainers: list[User] | None = None,
        optional: int = 0,
        body: str = "Some **useful** text.",
        validity_months: int | None = None,
    ) -> Course:
        n = next(counter)
        slug = slug or f"course-{n}"
        course = Course(
            slug=slug,
            title=title or f"Course {n}",
            summary="A course",
            status=status,
            enrolment_key=key,
            trainers=trainers or [],
            validity_months=validity_months,
        )
        for m in range(1, modules + 1):
            module = Module(slug=f"module-{m}", position=m, title=f"Module {m}", prefix=f"{m:02d}")
            for i in range(1, lessons + optional + 1):
                module.items.append(
                    Item(
                        slug=f"lesson-{m}-{i}",
                        position=i,
                        prefix=f"{i:02d}",
                        kind="lesson",
                        title=f"Lesson {m}.{i}",
                        required=i <= lessons,
                        minutes=5,
                        source=body,
                        body_html=markdown_to_html(body),
                    )
                )
            course.modules.append(module)
        session.add(course)
        session.commit()
        return course

    return make


CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on `path`, as a browser would have it."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any] | None = None, page: str | None = None
) -> Any:
    """Post a form the way the page that holds it would, CSRF token included."""
    token = csrf_token(client, page or "/courses")
    return client.post(path, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def token_for(session: Session) -> Callable[[User], dict[str, str]]:
    """token_for(user) -> the Authorization header of a new personal API token."""

    def make(user: User) -> dict[str, str]:
        token = accounts.create_token(session, user)
        session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """with count_queries() as counter: ...; counter.count — SQL statements run."""

    class Counter:
        def __init__(self) -> None:
            self.count = 0
            self.statements: list[str] = []

        def __enter__(self) -> Counter:
            event.listen(db.get_database(app).engine, "before_cursor_execute", self._count)
            return self

        def __exit__(self, *exc: object) -> None:
            event.remove(db.get_database(app).engine, "before_cursor_execute", self._count)

        def _count(self, _conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
            if (
                not statement.lstrip()
                .upper()
                .startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
            ):
                self.count += 1
                self.statements.append(statement)

    return Counter


class SMTPServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: what it received, parsed."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each as it came, for what parsing would hide
        self.recipients: list[list[str]] = []
        self._received = threading.Condition()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        with self._received:
            self.messages.append(message)  # type: ignore[arg-type]
            self.raw.append(envelope.content)
            self.recipients.append(list(envelope.rcpt_tos))
            self._received.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        """The messages, once at least `count` have come (for a real worker)."""
        with self._received:
            if not self._received.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} mails came in {timeout} s")
            return list(self.messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_vle_serve(
    instance: Path,
    database_url: str,
    *args: str,
    stdout: Any = subprocess.DEVNULL,
    port: int | None = None,
    **env: str,
) -> tuple[subprocess.Popen[bytes], int]:
    """`vle serve` in production mode on `port` (a free one if not given) of
    127.0.0.1, once it answers /login (within two minutes: it loads the search
    dictionaries before it binds); `env` adds or overrides VLE_ settings. The
    caller terminates it."""
    port = port or free_port()
    environment = {
        **os.environ,
        "VLE_ENV": "production",
        "VLE_SECRET_KEY": "serve-test-secret",
        "VLE_INSTANCE_PATH": str(instance),
        "VLE_DATABASE_URL": database_url,
        **env,
    }
    vle = os.path.join(os.path.dirname(sys.executable), "vle")
    process = subprocess.Popen(
        [vle, "serve", "--port", str(port), *args],
        env=environment,
        stdout=stdout,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5):
                return process, port
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.terminate()
                raise
            time.sleep(0.3)


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[SMTPServer]:
    """A real SMTP server on a free port of 127.0.0.1, which the app sends to;
    `.messages` are the mails it received (email.message.EmailMessage)."""
    from aiosmtpd.controller import Controller

    server = SMTPServer("127.0.0.1", free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    try:
        yield server
    finally:
        controller.stop()
