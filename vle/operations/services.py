"""Backups: the whole database and the instance folder's files in one file, and back.

A backup is a tar file holding `manifest.json` (vle's version, the schema's
Alembic revision, the database's kind, when), the database (`database.sqlite3`,
made with SQLite's online backup API, safe while the site runs; or
`database.dump`, pg_dump's custom format) and the instance folder's files under
`files/` (uploads, badge keys, …), but not the SQLite database's own files nor
the queue's, which are not the site's data. A restore checks everything it can
before it changes anything: that the file is a vle backup, of a schema this code
knows, of the same kind of database, and that the database is empty (or forced).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_babel import gettext as _
from sqlalchemy import Engine, inspect, select, text

from vle.db import Base
from vle.errors import Conflict, Invalid
from vle.migrations import MIGRATIONS

FORMAT = "vle-backup"
MANIFEST = "manifest.json"
FILES = "files/"
# Files of the instance folder that are not the site's data: the queue's
# (vle/mail/queue.py) and, next to it, the SQLite database's, which the
# backup API copies consistently instead.
QUEUE_FILE = "queue.sqlite3"
# The database's file in a backup, by the database's kind.
_DUMPS = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}


@dataclass(frozen=True)
class Manifest:
    format: str
    vle_version: str
    revision: str
    database: str  # "sqlite" or "postgresql"
    created: str  # ISO 8601, UTC
    files: int


def backup(engine: Engine, instance_path: str | Path, target: Path) -> Manifest:
    """Write the database and the instance folder's files to `target`, a tar
    file. The file appears whole or not at all."""
    revision = _revision(engine)
    if revision is None:
        raise Invalid(_("The database has no schema yet: there is nothing to back up."))
    instance = Path(instance_path)
    files = list(_instance_files(engine, instance, skip=target))
    manifest = Manifest(
        format=FORMAT,
        vle_version=_vle_version(),
        revision=revision,
        database=engine.dialect.name,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        files=len(files),
    )
    target = target.resolve()
    try:
        with tempfile.TemporaryDirectory(dir=_writable_folder(target.parent)) as work:
            dump = Path(work) / "database"
            name = _dump(engine, dump)
            partial = Path(work) / "backup.tar"
            with tarfile.open(partial, "w:gz") as archive:
                data = json.dumps(asdict(manifest), indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(time.time())
                archive.addfile(info, io.BytesIO(data))
                archive.add(dump, arcname=name)
                for path in files:
                    archive.add(path, arcname=FILES + path.relative_to(instance).as_posix())
            partial.chmod(0o600)  # it holds the secret key, badge keys and password hashes
            os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        raise Invalid(_("The backup failed: %(error)s", error=_reason(error))) from None
    return manifest


def restore(
    engine: Engine, instance_path: str | Path, source: Path, force: bool = False
) -> Manifest:
    """Put a backup's database and files back. Refused, with nothing changed:
    a file that is not a vle backup, a backup of a newer schema than this
    code's or of another kind of database, and a database that holds any row
    unless `force`."""
    try:
        archive = tarfile.open(source, "r")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError):
        raise Invalid(_("%(file)s is not a vle backup.", file=source)) from None
    with archive:
        try:
            members = archive.getmembers()  # read to the end: a cut-off file fails here
        except (OSError, EOFError, zlib.error, tarfile.TarError):
            raise Invalid(
                _("%(file)s is damaged or incomplete: nothing was restored.", file=source)
            ) from None
        manifest = _manifest(archive, source)
        if engine.dialect.name != manifest.database:
            raise Invalid(
                _(
                    "The backup is of a %(kind)s database; this site's is %(ours)s: "
                    "restore it into %(kind)s.",
                    kind=manifest.database,
                    ours=engine.dialect.name,
                )
            )
        table = _first_table_with_rows(engine)
        if table is not None and not force:
            raise Conflict(
                _(
                    "The database is not empty (the table %(table)s holds rows): "
                    "give --force to replace everything in it with the backup.",
                    table=table,
                )
            )
        instance = Path(instance_path)
        files = [
            (member.name, _inside(instance, member.name))
            for member in members
            if member.isfile() and member.name.startswith(FILES)
        ]
        try:
            with tempfile.TemporaryDirectory() as work:
                dump = Path(work) / "database"
                _extract(archive, _DUMPS[manifest.database], dump, source)
                _load(engine, dump)
            for name, to in files:
                _extract(archive, name, to, source)
        except (OSError, sqlite3.Error) as error:
            raise Invalid(_("The restore failed: %(error)s", error=_reason(error))) from None
    return manifest


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error)


def _manifest(archive: tarfile.TarFile, source: Path) -> Manifest:
    not_a_backup = Invalid(_("%(file)s is not a vle backup.", file=source))
    try:
        member = archive.extractfile(MANIFEST)
        fields = json.load(member) if member is not None else None
        manifest = Manifest(**fields) if isinstance(fields, dict) else None
    except (KeyError, ValueError, TypeError, tarfile.TarError):
        raise not_a_backup from None
    if (
        manifest is None
        or manifest.format != FORMAT
        or manifest.database not in _DUMPS
        or not isinstance(manifest.revision, str)
    ):
        raise not_a_backup
    if manifest.revision not in _revisions():
        raise Invalid(
            _(
                "The backup's schema (revision %(revision)s, vle %(version)s) is newer "
                "than this vle's: upgrade vle first.",
                revision=manifest.revision,
                version=manifest.vle_version,
            )
        )
    return manifest


def _dump(engine: Engine, dump: Path) -> str:
    """Copy the database into the file `dump`; the name it has in a backup."""
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        copy = sqlite3.connect(dump)
        try:
            with copy:
                source.backup(copy)  # one consistent snapshot, while others write
        finally:
            copy.close()
            source.close()
    else:
        _run_pg(engine, ["pg_dump", "--format=custom", "--file", str(dump)])
    return _DUMPS[engine.dialect.name]


def _load(engine: Engine, dump: Path) -> None:
    """Replace the whole database with the one in the file `dump`."""
    engine.dispose()  # no pooled connection keeps the old database's pages
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(dump)
        database = sqlite3.connect(_sqlite_path(engine))
        try:
            with database:
                source.backup(database)
        finally:
            database.close()
            source.close()
    else:
        with engine.begin() as connection:
            for table in inspect(connection).get_table_names():
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        _run_pg(
            engine,
            ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", str(dump)],
        )  # fmt: skip
    engine.dispose()


def _run_pg(engine: Engine, command: list[str]) -> None:
    """Run pg_dump or pg_restore on the engine's database: its URL, without
    SQLAlchemy's driver name, as libpq's connection string, and the password
    in the environment (so it shows in no process list)."""
    url = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(password=None).render_as_string(hide_password=False)
    command = [*command, "--dbname", conninfo]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    except FileNotFoundError:
        raise Invalid(
            _("%(program)s is not installed (PostgreSQL's client tools).", program=command[0])
        ) from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        raise Invalid(_("%(program)s failed: %(error)s", program=command[0], error=lines[-1]))


def is_older_than_this_vle(manifest: Manifest) -> bool:
    """Whether a restored backup's schema needs `vle db upgrade`."""
    return manifest.revision != ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _first_table_with_rows(engine: Engine) -> str | None:
    """The first of vle's tables that holds a row (an index derived from them,
    such as SQLite's full-text search, does not count)."""
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        for table in Base.metadata.sorted_tables:
            if (
                table.name in present
                and connection.execute(select(1).select_from(table).limit(1)).first()
            ):
                return table.name
    return None


def _instance_files(engine: Engine, instance: Path, skip: Path) -> Iterator[Path]:
    skipped = [QUEUE_FILE]
    if engine.dialect.name == "sqlite":
        skipped.append(Path(_sqlite_path(engine)).name)  # with its -wal, -shm, lock files
    skip = skip.resolve()
    for path in sorted(instance.rglob("*")):
        if not path.is_file() or path.resolve() == skip:
            continue
        top = path.relative_to(instance).parts[0]
        if not any(top.startswith(name) for name in skipped):
            yield path


def _sqlite_path(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise Invalid(_("An in-memory SQLite database cannot be backed up or restored."))
    return path


def _writable_folder(folder: Path) -> Path:
    if not folder.is_dir():
        raise Invalid(_("There is no folder %(folder)s.", folder=folder))
    return folder


def _inside(instance: Path, name: str) -> Path:
    """Where a backup's file goes: inside the instance folder, whatever its name says."""
    relative = PurePosixPath(name).relative_to(FILES.rstrip("/"))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise Invalid(_("The backup holds a file outside the instance folder: %(name)s", name=name))
    return instance.joinpath(*relative.parts)


def _extract(archive: tarfile.TarFile, name: str, to: Path, source: Path) -> None:
    try:
        member = archive.extractfile(name)
    except (KeyError, tarfile.TarError):
        member = None
    if member is None:
        raise Invalid(_("%(file)s is not a vle backup.", file=source))
    to.parent.mkdir(parents=True, exist_ok=True)
    with member, open(to, "wb") as out:
        shutil.copyfileobj(member, out)
    to.chmod(archive.getmember(name).mode & 0o777)  # a key (0600) stays its owner's alone


def _vle_version() -> str:
    try:
        return version("vle")
    except PackageNotFoundError:
        return "unknown"
