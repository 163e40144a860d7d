"""`vle backup FILE` and `vle restore FILE [--force]` (vle.operations.services)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Integer,
    Table,
    TypeDecorator,
    func,
    select,
)

from tests.conftest import _empty_tables
from vle import create_app, db, uploads
from vle.accounts.models import Organisation
from vle.cli import cli
from vle.db import Base
from vle.demo import seed_demo

# A made-up row must pass its table's checks: where at most one of two
# references may be set, or an end must follow a start, these are left out.
LEFT_OUT = {
    "announcements": {"course_id", "ends_at"},
    "badges": {"completion_id"},
    "forum_subscriptions": {"thread_id"},
    "plan_assignments": {"organisation_id"},
}
# `status IN ('draft', …)`, `role IS NULL OR role IN (…)`: the first value allowed.
_ALLOWED = re.compile(r"(\w+) IN \('([^']*)'")


@pytest.fixture
def site(app: Flask, _database: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    """The test database (emptied by `app`) with an instance folder of this test's own."""
    site = create_app({**_database, "INSTANCE_PATH": str(tmp_path / "instance")}, env="test")
    yield site
    db.get_database(site).engine.dispose()


def vle(site: Flask, *args: str) -> Any:
    return site.test_cli_runner().invoke(cli, args=list(args))


def test_a_restore_brings_back_every_table_row_for_row_and_the_uploads(site, tmp_path):
    engine = db.get_database(site).engine
    with site.app_context(), db.transaction() as db_session:
        seed_demo(db_session, Path(site.config["COURSES_PATH"]), site.instance_path)
    with engine.begin() as connection:
        fill_every_table(connection)
    sha256 = uploads.store(site.instance_path, b"%PDF-1.4 a trainer's handout")
    key = Path(site.instance_path) / "badge-keys" / "2026.pem"
    key.parent.mkdir()
    key.write_bytes(b"a private key")
    key.chmod(0o600)
    before = contents(engine)
    assert [table for table, (count, _) in before.items() if count == 0] == []

    backup = tmp_path / "site.backup"
    done = vle(site, "backup", str(backup))
    assert done.exit_code == 0, done.output
    assert "Backed up" in done.output
    assert backup.stat().st_mode & 0o777 == 0o600  # it holds keys and password hashes

    _empty_tables(site)  # the database is lost, and the files with it
    uploads.stored_path(site.instance_path, sha256).unlink()
    key.unlink()
    done = vle(site, "restore", str(backup))
    assert done.exit_code == 0, done.output
    assert "Restored" in done.output
    assert "vle db upgrade" not in done.output  # the schema is this vle's

    after = contents(engine)
    assert {t: after[t] for t in before if after[t] != before[t]} == {}
    assert uploads.read(site.instance_path, sha256) == b"%PDF-1.4 a trainer's handout"
    assert key.read_bytes() == b"a private key" and key.stat().st_mode & 0o777 == 0o600
    with site.app_context(), db.transaction() as db_session:  # new rows take new ids
        db_session.add(Organisation(code="NEW", name="Made after the restore"))


def test_a_backup_taken_while_the_site_writes_holds_a_consistent_moment(site, tmp_path):
    written: list[str] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def write() -> None:  # a site at work: one organisation after another
        try:
            while not stop.is_set() or len(written) < 5:
                code = f"ORG{len(written):04d}"
                add_organisation(site, code)
                written.append(code)
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 5:
            time.sleep(0.01)
        backup = tmp_path / "site.backup"
        done = vle(site, "backup", str(backup))
    finally:
        stop.set()
        writer.join()
    assert done.exit_code == 0, done.output
    assert errors == []

    assert vle(site, "restore", "--force", str(backup)).exit_code == 0
    restored = organisation_codes(site)
    assert 5 <= len(restored) <= len(written)
    assert restored == written[: len(restored)]  # every row up to a moment, none after


def test_restore_refuses_a_database_with_rows_unless_forced(site, tmp_path):
    add_organisation(site, "KEPT")
    backup = tmp_path / "site.backup"
    assert vle(site, "backup", str(backup)).exit_code == 0
    add_organisation(site, "LATER")

    done = vle(site, "restore", str(backup))
    assert done.exit_code == 1
    assert "not empty" in done.output and "--force" in done.output
    assert organisation_codes(site) == ["KEPT", "LATER"]  # nothing changed

    done = vle(site, "restore", "--force", str(backup))
    assert done.exit_code == 0, done.output
    assert organisation_codes(site) == ["KEPT"]


@pytest.mark.parametrize("kind", ["empty", "text", "a tar without a manifest"])
def test_restore_refuses_a_file_that_is_not_a_vle_backup(site, tmp_path, kind):
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(
        {"empty": b"", "text": b"not a backup at all\n"}.get(kind)
        or tar_of({"notes.txt": b"hello"})
    )
    done = vle(site, "restore", str(garbage))
    assert done.exit_code == 1
    assert "is not a vle backup" in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize("field", ["revision", "database", "format"])
def test_restore_refuses_a_backup_it_cannot_take(site, tmp_path, field):
    add_organisation(site, "KEPT")
    backup = tmp_path / "site.backup"
    assert vle(site, "backup", str(backup)).exit_code == 0
    other_kind = {"sqlite": "postgresql", "postgresql": "sqlite"}[db.get_database(site).engine.name]
    value, message = {
        "revision": ("9999", "newer than this vle"),
        "database": (other_kind, f"restore it into {other_kind}"),
        "format": ("zip", "is not a vle backup"),
    }[field]
    changed = with_manifest(backup, **{field: value})
    add_organisation(site, "LATER")

    done = vle(site, "restore", "--force", str(changed))
    assert done.exit_code == 1
    assert message in done.output
    assert organisation_codes(site) == ["KEPT", "LATER"]


def test_restoring_an_older_schema_says_to_upgrade(site, tmp_path):
    backup = tmp_path / "site.backup"
    assert vle(site, "backup", str(backup)).exit_code == 0
    done = vle(site, "restore", str(with_manifest(backup, revision="0001")))
    assert done.exit_code == 0, done.output
    assert "run `vle db upgrade` next" in done.output


def test_restore_refuses_a_cut_off_backup_and_changes_nothing(site, tmp_path):
    add_organisation(site, "KEPT")
    backup = tmp_path / "site.backup"
    assert vle(site, "backup", str(backup)).exit_code == 0
    add_organisation(site, "LATER")
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])

    done = vle(site, "restore", "--force", str(backup))
    assert done.exit_code == 1
    assert "damaged or incomplete: nothing was restored" in done.output
    assert organisation_codes(site) == ["KEPT", "LATER"]


def test_a_backup_leaves_out_the_queue(site, tmp_path):
    instance = Path(site.instance_path)
    instance.mkdir(exist_ok=True)
    (instance / "queue.sqlite3").write_bytes(b"the queue's tasks")
    (instance / "queue.sqlite3-wal").write_bytes(b"more of them")
    (instance / "logo.png").write_bytes(b"a logo")
    backup = tmp_path / "site.backup"
    assert vle(site, "backup", str(backup)).exit_code == 0
    names = set(untar(backup))
    assert "files/logo.png" in names
    assert not any("queue" in name for name in names)


def add_organisation(site: Flask, code: str) -> None:
    with site.app_context(), db.transaction() as db_session:
        db_session.add(Organisation(code=code, name=code.title()))


def organisation_codes(site: Flask) -> list[str]:
    with db.get_database(site).engine.connect() as connection:
        return list(connection.scalars(select(Organisation.code).order_by(Organisation.code)))


def with_manifest(backup: Path, **changes: str) -> Path:
    """A copy of the backup whose manifest says otherwise."""
    members = untar(backup)
    manifest = json.loads(members["manifest.json"])
    changed = backup.with_name("changed.backup")
    changed.write_bytes(
        tar_of({**members, "manifest.json": json.dumps({**manifest, **changes}).encode()})
    )
    return changed


def tar_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def untar(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def contents(engine: Engine) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows, in primary key order."""
    found = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            found[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


def fill_every_table(connection: Connection) -> None:
    """One made-up row in each table that is still empty, referring to rows
    already there (parents before children)."""
    for table in Base.metadata.sorted_tables:
        if not connection.scalar(select(func.count()).select_from(table)):
            connection.execute(table.insert().values(made_up_row(connection, table)))


def made_up_row(connection: Connection, table: Table) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for constraint in table.foreign_key_constraints:
        if constraint.referred_table is not table:  # a parent of its own kind may be left out
            referred = [element.column for element in constraint.elements]
            first = connection.execute(select(*referred).limit(1)).one()
            row.update(zip(constraint.column_keys, first, strict=True))
    allowed = {
        match[0]: match[1]
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
        for match in _ALLOWED.findall(str(constraint.sqltext))
    }
    key = list(table.primary_key.columns)
    own_id = key if len(key) == 1 and isinstance(key[0].type, Integer) else []
    for column in table.columns:
        if column.name in row or column.foreign_keys or column in own_id:
            continue
        row[column.name] = allowed.get(column.name, made_up_value(column))
    for name in LEFT_OUT.get(table.name, ()):
        row[name] = None
    return row


def made_up_value(column: Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if getattr(kind, "enums", None):
        return kind.enums[0]  # type: ignore[attr-defined]
    values = {
        datetime: datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC),
        date: date(2026, 3, 4),
        bool: True,
        int: 7,
        float: 0.25,
        Decimal: Decimal("0.25"),
        dict: {"ž": [1, "ą"]},
        list: [1, "ą"],
        bytes: b"\x00\xff",
        uuid.UUID: uuid.UUID(int=7),
    }
    try:
        return values.get(kind.python_type, "Žemaitė")
    except NotImplementedError:
        return "Žemaitė"
