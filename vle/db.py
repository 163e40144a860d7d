"""The database: one engine per app, one session per request (or CLI command)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, Generic, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import JSON, DateTime, Engine, MetaData, Select, create_engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; vle stores timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def insert_unless_exists(db_session: Session, table: Any, keys: list[str]) -> Any:
    """An INSERT of `table` (a model or a Table) that skips any row whose
    unique `keys` another row holds already (ON CONFLICT DO NOTHING, on
    SQLite and PostgreSQL alike): one statement, so two transactions
    inserting the same row at once do not collide and no savepoint is
    needed. Add `.values(...)`/`.returning(...)` or execute it with rows."""
    dialect = db_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=keys)


def utcnow() -> datetime:
    return datetime.now(UTC)


def database_url(settings: dict) -> str:
    if settings.get("DATABASE_URL"):
        return settings["DATABASE_URL"]
    path = Path(settings["INSTANCE_PATH"]) / "vle.sqlite3"
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url not in {"sqlite://", "sqlite:///:memory:"}:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers run while one writer writes; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # SQLite's own lower() knows only ASCII: "Žemaitė" would not match "žemait".
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        # pysqlite's own transaction handling defers BEGIN; take a write lock up
        # front (BEGIN IMMEDIATE) so concurrent writers queue on busy_timeout
        # instead of failing with "database is locked" on lock upgrade.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        writer = _WriterLock(url)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            if _asked_for_autocommit(conn):
                return
            if _snapshot(conn):
                conn.exec_driver_sql("BEGIN")  # deferred: a reader under WAL, no writer lock
                return
            if _reads_only(conn):
                return  # pysqlite in autocommit: each SELECT reads by itself
            if not _writing():
                conn.exec_driver_sql("BEGIN")
                return
            if not writer.acquire(_BUSY_TIMEOUT_S):
                raise OperationalError("BEGIN IMMEDIATE", None, TimeoutError("database is locked"))
            conn.info[_HOLDS_WRITER] = writer
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _release_writer(conn)
                raise

        # The lock goes with the transaction: released once it has committed or
        # rolled back, or, should neither happen, when the connection goes back
        # to the pool (after the pool's rollback) or is thrown away.
        event.listen(engine, "commit", _commit_write)
        event.listen(engine, "rollback", _rollback_write)
        event.listen(engine, "commit", _end_reads)
        event.listen(engine, "rollback", _end_reads)
        event.listen(engine.pool, "checkin", _release_writer_record)
        event.listen(engine.pool, "invalidate", _release_writer_record_exc)
        _ping_after_idle(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_after_idle(engine)

    @event.listens_for(engine, "begin")
    def _begin_postgresql(conn: Any) -> None:
        # psycopg sends BEGIN before a transaction's first statement and the
        # session sends ROLLBACK after its last: two round trips a request
        # for nothing when the request only reads. In autocommit it sends
        # neither (and each statement sees the latest committed data, as it
        # does in a READ COMMITTED transaction anyway).
        if _asked_for_autocommit(conn):
            return  # SQLAlchemy has switched the driver to autocommit already
        driver = conn.connection.driver_connection
        autocommit = not _snapshot(conn) and _reads_only(conn)
        if driver.autocommit != autocommit:
            driver.autocommit = autocommit

    @event.listens_for(engine, "before_cursor_execute")
    def _server_cursor_in_transaction(conn: Any, *args: Any) -> None:
        # A server-side cursor (streamed results: exports) lives in a
        # transaction; it opens one, which ends as the request's session does.
        context = args[3]
        if conn.info.get(READS_ONLY) and context.execution_options.get("stream_results"):
            driver = conn.connection.driver_connection
            if driver.autocommit:
                driver.autocommit = False

    event.listen(engine, "commit", _end_reads)
    event.listen(engine, "rollback", _end_reads)
    return engine


_BUSY_TIMEOUT_S = 30  # as PRAGMA busy_timeout

# A pooled connection unused for this long is tested before it is handed out.
IDLE_BEFORE_PING_S = 10.0
_IDLE_SINCE = "vle_idle_since"


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection before use when it has sat idle for a while
    (the database restarted, a firewall dropped it): a dead one is replaced
    and the request goes on. SQLAlchemy's `pool_pre_ping` tests every
    checkout — on PostgreSQL a round trip on every request, a quarter of a
    page's. The price: after a database restart, a connection that was in
    use less than IDLE_BEFORE_PING_S ago fails its request (500), which also
    makes SQLAlchemy discard the rest of the pool; the requests after it get
    new connections."""

    @event.listens_for(engine.pool, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool throws the connection away and checks out another.
            raise DisconnectionError(f"a pooled connection was dead: {error}") from error


class _WriterLock:
    """One writer at a time for one SQLite file, queued by vle itself.

    SQLite lets one transaction write at a time; the others wait in its busy
    handler, which polls with sleeps growing to 100 ms, so under load some
    writers lose again and again (seconds of tail latency). Here the writers
    of one process queue on a thread lock, where a finished writer wakes the
    next at once, and the processes (gunicorn workers) take turns on an
    advisory lock on a file beside the database, polled every 0.2 ms (one
    waiting thread per process; the holder is elsewhere and loses no time to it;
    decision 0007).
    BEGIN IMMEDIATE then finds the database free; SQLite's own lock still
    guards against any other program writing to the file."""

    def __init__(self, url: str):
        self._thread_lock = threading.Lock()
        database = url.removeprefix("sqlite:///")
        in_memory = url in {"sqlite://", "sqlite:///:memory:"} or not database
        self._path = None if in_memory else f"{database}-writer.lock"
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # opened again after a fork
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            return False
        try:
            fd = self._file()
            while fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        self._thread_lock.release()
                        return False
                    time.sleep(0.0002)
        except BaseException:
            self._thread_lock.release()
            raise
        return True

    def release(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


_HOLDS_WRITER = "vle_writer_lock"


def _commit_write(conn: Any) -> None:
    """SQLAlchemy's commit event, for a transaction that holds the writer lock.
    The event comes *before* the driver commits: released there, the lock let
    the next writer's BEGIN IMMEDIATE find the database still locked, and wait
    in SQLite's busy handler (sleeps of up to 100 ms: the completion POST held
    the lock 3 ms at the median and 130 ms at the 99th percentile). So vle
    commits itself, then releases the lock; pysqlite's own commit() finds no
    transaction left and does nothing. A COMMIT that fails keeps the lock
    until the session, rolling back, gives the connection back to the pool:
    the pool's rollback ends the transaction, and the lock goes at check-in."""
    if _HOLDS_WRITER in conn.info:
        conn.exec_driver_sql("COMMIT")
        _release_writer(conn)


def _rollback_write(conn: Any) -> None:
    """SQLAlchemy's rollback event, likewise: roll back, then release (even if
    the ROLLBACK fails)."""
    if _HOLDS_WRITER in conn.info:
        try:
            conn.exec_driver_sql("ROLLBACK")
        finally:
            _release_writer(conn)


def _release_writer(conn: Any) -> None:
    lock = conn.info.pop(_HOLDS_WRITER, None)
    if lock is not None:
        lock.release()


def _release_writer_record(_dbapi_connection: Any, record: Any) -> None:
    lock = record.info.pop(_HOLDS_WRITER, None) if record is not None else None
    if lock is not None:
        lock.release()


def _release_writer_record_exc(dbapi_connection: Any, record: Any, _exc: Any) -> None:
    _release_writer_record(dbapi_connection, record)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Set in a connection's info while its "transaction" is a request's reads
# without a transaction (see `_reads_only`); tests check that nothing writes then.
READS_ONLY = "vle_reads_only"


_WRITING: ContextVar[bool] = ContextVar("vle_db_writing", default=False)


def _writing() -> bool:
    """Will this transaction write? Requests that change state, views marked
    `@writes` and blocks inside `transaction()` (the CLI) do."""
    if _WRITING.get():
        return True
    if not has_request_context():
        return False
    if g.get("db_reads_first"):
        return False
    return request.method not in SAFE_METHODS or bool(g.get("db_write"))


def _reads_only(conn: Any) -> bool:
    """Does the transaction beginning on `conn` only read, for a request? A
    request's reads then run without a transaction, each statement by itself:
    on PostgreSQL that saves the BEGIN and ROLLBACK round trips of every page,
    on SQLite the BEGIN. Whatever writes — a request that is not GET, a view
    marked `@writes`, a `transaction()` block — keeps its transaction, and so
    does everything outside a request (the CLI, scripts)."""
    reads_only = has_request_context() and not _writing()
    conn.info[READS_ONLY] = reads_only
    return reads_only


# The execution option that `read_snapshot` opens its session's connection with.
SNAPSHOT = "vle_snapshot"


def _snapshot(conn: Any) -> bool:
    """Is the transaction beginning on `conn` a `read_snapshot`? It only reads
    (the test suite holds it to that, as it does a request's reads)."""
    if not conn.get_execution_options().get(SNAPSHOT):
        return False
    conn.info[READS_ONLY] = True
    return True


def read_snapshot(db_session: Session) -> Session:
    """Begin on `db_session` a transaction that only reads, for a read that takes
    long and must see one state of the data throughout: a streamed export, read
    for as long as the client takes to download it. It takes no writer lock,
    even in a request that writes (`@writes`, a POST): on SQLite it is a plain
    deferred BEGIN, a reader that under WAL sees the database as it was at its
    first statement while writers go on committing; begun under the writer lock,
    it would stop every write of the site until the download ended. On
    PostgreSQL it is a READ COMMITTED transaction, as a server-side cursor needs.
    Whatever `db_session` had in progress is committed first. It ends when the
    session commits, rolls back or is closed (for a streamed response, when the
    body ends). Returns `db_session`."""
    if db_session.in_transaction():
        db_session.commit()
    db_session.connection(execution_options={SNAPSHOT: True})
    return db_session


def snapshot_session() -> Session:
    """The request's (or command's) session, in a `read_snapshot`: what a
    streamed export's body reads with."""
    return read_snapshot(session())


def _asked_for_autocommit(conn: Any) -> bool:
    """Did the caller ask SQLAlchemy for no transaction at all (the AUTOCOMMIT
    isolation level: statements that cannot run in one, such as VACUUM)?
    vle's own choice of transaction then keeps out of the way."""
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _end_reads(conn: Any) -> None:
    if conn.invalidated:  # its connection died (a database restart): nothing left to end
        return
    conn.info.pop(READS_ONLY, None)


def writes(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET view that writes (e.g. records that an item was viewed), so that
    on SQLite its transaction takes the write lock up front. Put it outermost."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.db_write = True
        # What was read before the view (the signed-in user, by a before-request
        # hook) ran without a transaction; the view's own begins afresh, as a writer.
        db_session = g.get("db_session")
        if db_session is not None and db_session.in_transaction():
            db_session.commit()
        return view(*args, **kwargs)

    return wrapper


def reads_first(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that changes state but reads first in a plain transaction
    and takes the write lock itself, with `transaction()`, only around its
    writes: on SQLite, writers then wait for each other only as long as a
    write takes, not a whole request. Put it outermost."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.db_reads_first = True
        return view(*args, **kwargs)

    return wrapper


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)


def init_app(app: Flask) -> None:
    app.extensions["vle.db"] = Database(database_url(app.config))

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.close()


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["vle.db"]


def session() -> Session:
    """The session of this request or CLI command; closed when the app context ends."""
    if "db_session" not in g:
        g.db_session = get_database().sessionmaker()
    return g.db_session


class Upsert:
    """An INSERT that, when a row with the same unique `keys` exists, updates
    it with `on_conflict(excluded)` instead (`excluded`: the values that were
    to be inserted). One statement, so two requests inserting the same row at
    once (two tabs) do not collide. Built once per dialect with bind
    parameters named like the columns: building it cost more than running it."""

    def __init__(
        self,
        model: type[Base],
        keys: list[str],
        columns: list[str],
        on_conflict: Callable[[Any], dict[str, Any]],
    ):
        from sqlalchemy import bindparam
        from sqlalchemy.dialects import postgresql, sqlite

        self._statements = {}
        for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert)):
            statement = insert(model).values({column: bindparam(column) for column in columns})
            self._statements[name] = statement.on_conflict_do_update(
                index_elements=keys, set_=on_conflict(statement.excluded)
            )

    def __call__(self, db_session: Session, values: dict[str, Any]) -> None:
        db_session.execute(self._statements[db_session.get_bind().dialect.name], values)


@contextmanager
def _write_in(db_session: Session) -> Iterator[Session]:
    """Run the block as a writer on `db_session`: commit on success, roll back
    on any error."""
    marker = _WRITING.set(True)
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        _WRITING.reset(marker)


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit on success, roll back on any error. On SQLite the transaction
    takes the write lock when it begins."""
    db_session = session()
    if db_session.in_transaction():
        db_session.commit()  # end a read transaction so the next BEGIN is immediate
    with _write_in(db_session):
        yield db_session


@contextmanager
def bookkeeping() -> Iterator[Session]:
    """A small write a request makes whatever else it does (when a session was
    last seen, when a token was last used), when it authenticates, before the
    view has changed anything. In a request that writes anyway it is written
    in the request's own session and committed at once (on SQLite that
    session's transaction holds the writer lock, which a second one would
    wait for in vain), so a view that then fails and rolls back keeps it.
    In a request that only reads, it is a short transaction of its own,
    committed when the block ends; on SQLite it takes the writer lock for the
    block only."""
    if _writing():
        db_session = session()
        yield db_session
        db_session.commit()
        return
    db_session = get_database().sessionmaker()
    try:
        with _write_in(db_session):
            yield db_session
    finally:
        db_session.close()


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list: its items, the total and where it is (templates/admin/_macros.html pager)."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(
    db_session: Session,
    query: Select[Any],
    page: int,
    per_page: int,
    count_up_to: int | None = None,
) -> Page[Any]:
    """The `page`th page (from 1) of a query's rows: one count, one query for the rows.
    With `count_up_to`, the count stops past that many rows (a search matching
    50,000 posts need not count them all): `total` is then at most count_up_to + 1."""
    counted = query.order_by(None)
    if count_up_to is not None:
        counted = counted.limit(count_up_to + 1)
    total = db_session.scalar(select(func.count()).select_from(counted.subquery()))
    page = max(1, page)
    items: list[Any] = []
    if (page - 1) * per_page < (total or 0):  # a page past the end holds nothing (10**30 too)
        items = list(
            db_session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique()
        )
    return Page(items=items, total=total or 0, page=page, per_page=per_page)
