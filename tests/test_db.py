"""The database layer: concurrent writers queue and all succeed; a writer that
fails holds up nobody; a request that only reads opens no transaction."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import login, post_form
from vle import db
from vle.accounts.models import Organisation
from vle.catalog.models import Course


def _add_organisation(app, code: str, fail: bool = False) -> None:
    with app.app_context(), db.transaction() as db_session:
        db_session.add(Organisation(code=code, name=code))
        db_session.flush()
        if fail:
            raise RuntimeError("the service refused")


def test_concurrent_writers_all_commit_and_a_failed_one_blocks_nobody(app, session):
    # A writer that fails mid-transaction: its lock must go with its rollback.
    with pytest.raises(RuntimeError):
        _add_organisation(app, "FAILED", fail=True)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            _add_organisation(app, f"W{n}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck"
    assert errors == []
    codes = set(session.scalars(select(Organisation.code)))
    assert codes == {f"W{n}" for n in range(12)}
    assert session.scalar(select(func.count()).select_from(Organisation)) == 12


def test_a_writer_lets_the_next_one_in_only_once_its_transaction_has_ended(
    app, session, monkeypatch
):
    """SQLite: the next writer's BEGIN IMMEDIATE must find the database free.
    Let in while the last writer's COMMIT was still to come, it waited in
    SQLite's busy handler (sleeps of up to 100 ms)."""
    if db.get_database(app).engine.dialect.name != "sqlite":
        return  # PostgreSQL's writers lock rows, and vle queues none of them
    connections, open_at_release = [], []
    release = db._WriterLock.release

    def checked_release(lock) -> None:
        open_at_release.append(connections[-1].in_transaction)
        release(lock)

    monkeypatch.setattr(db._WriterLock, "release", checked_release)
    with app.app_context():
        with db.transaction() as db_session:
            db_session.add(Organisation(code="KEPT", name="Kept"))
            db_session.flush()
            connections.append(db_session.connection().connection.driver_connection)
        with pytest.raises(RuntimeError), db.transaction() as db_session:
            db_session.add(Organisation(code="UNDONE", name="Undone"))
            db_session.flush()
            connections.append(db_session.connection().connection.driver_connection)
            raise RuntimeError("the service refused")
    assert open_at_release == [False, False]  # committed, then rolled back, before release
    assert set(session.scalars(select(Organisation.code))) == {"KEPT"}


def test_a_commit_that_fails_ends_its_transaction_and_lets_the_next_writer_in(app, session):
    engine = db.get_database(app).engine
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's writers lock rows, and vle queues none of them
    failed: list[str] = []

    def fail_the_first_commit(_conn, _cursor, statement, *_args) -> None:
        if statement == "COMMIT" and not failed:
            failed.append(statement)
            raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine, "before_cursor_execute", fail_the_first_commit)
    try:
        with app.app_context():
            with pytest.raises(DBAPIError), db.transaction() as db_session:
                db_session.add(Organisation(code="LOST", name="Lost"))
            # The request goes on, its session still open: the next writer must not wait.
            writer = threading.Thread(target=_add_organisation, args=(app, "NEXT"))
            writer.start()
            writer.join(timeout=10)
            assert not writer.is_alive(), "the failed writer still holds the lock"
    finally:
        event.remove(engine, "before_cursor_execute", fail_the_first_commit)
    assert failed == ["COMMIT"]
    assert set(session.scalars(select(Organisation.code))) == {"NEXT"}


WRITER = """
import sys
from vle import create_app, db
from vle.accounts.models import Organisation
app = create_app({"DATABASE_URL": sys.argv[1], "INSTANCE_PATH": sys.argv[2]}, env="test")
with app.app_context():
    for n in range(int(sys.argv[4])):
        with db.transaction() as s:
            s.add(Organisation(code=f"{sys.argv[3]}{n}", name="x"))
db.get_database(app).engine.dispose()
"""


def test_writers_in_several_processes_take_turns(app, session, _database, tmp_path):
    # As gunicorn's workers do: each process writes in its own transactions.
    import subprocess
    import sys

    url, instance = _database["DATABASE_URL"], _database["INSTANCE_PATH"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, instance, prefix, "40"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("P", "Q", "R")
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    assert session.scalar(select(func.count()).select_from(Organisation)) == 120


def _in_transaction(dbapi_connection) -> bool:
    if hasattr(dbapi_connection, "in_transaction"):  # sqlite3
        return dbapi_connection.in_transaction
    return not dbapi_connection.autocommit  # psycopg begins one before the statement


def test_pages_that_only_read_open_no_transaction_and_writes_keep_theirs(
    app, client, session, make_course, make_user
):
    """A page that reads sends no BEGIN (nor ROLLBACK): on PostgreSQL two round
    trips a request. Each statement finds the connection outside a transaction;
    the completion POST writes inside one."""
    make_user(email="ona@example.org")
    make_course(slug="water", lessons=2)
    login(client, "ona@example.org")
    post_form(client, "/courses/water/enrol")
    first = session.scalar(select(Course).where(Course.slug == "water")).items[0].id
    session.rollback()
    seen: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args) -> None:
        seen.append(
            (statement.split()[0].upper(), _in_transaction(conn.connection.driver_connection))
        )

    engine = db.get_database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/courses/water").status_code == 200
        reads = list(seen)
        seen.clear()
        assert client.get(f"/courses/water/items/{first}").status_code == 200  # a first view writes
        first_view = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert len(reads) >= 3
    assert all(verb == "SELECT" and not inside for verb, inside in reads), reads
    writes = [(verb, inside) for verb, inside in first_view if verb in {"INSERT", "UPDATE"}]
    assert writes and all(inside for _verb, inside in writes), first_view


def test_a_connection_idle_for_a_while_is_tested_and_a_dead_one_replaced(app, monkeypatch):
    engine = db.get_database(app).engine
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(
        engine.dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn)
    )

    def raw_connection_of_a_query():
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            return connection.connection.dbapi_connection

    first = raw_connection_of_a_query()
    assert raw_connection_of_a_query() is first  # used a moment ago: no round trip to test it
    assert pings == []

    monkeypatch.setattr(db, "IDLE_BEFORE_PING_S", 0.0)  # as if it had sat idle for long
    first.close()  # ... and died meanwhile (the database restarted)
    second = raw_connection_of_a_query()
    assert pings and second is not first


def test_a_connection_asked_for_autocommit_keeps_it(app):
    """SQLAlchemy's AUTOCOMMIT isolation level (for what cannot run in a
    transaction, such as VACUUM) is not overridden by vle's own choice of
    transaction, outside a request as inside one."""
    engine = db.get_database(app).engine
    with engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text("SELECT 1"))
        assert not _in_transaction(autocommit.connection.driver_connection)
    with app.test_request_context("/", method="POST"), engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text("SELECT 1"))
        assert not _in_transaction(autocommit.connection.driver_connection)
