"""Demo data for `vle demo`: organisations, accounts and the shipped course library.

Idempotent: what exists is kept (passwords included); only what is missing is made.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vle import db
from vle.accounts import services as accounts
from vle.accounts.models import Organisation
from vle.catalog.models import Course
from vle.library import services as library


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: str
    organisation: str
    password: str
    network: bool = False


# (code, name, type, parent code): a municipality with two subsidiaries, and a college.
DEMO_ORGANISATIONS = [
    ("ALY", "Alytaus miesto savivaldybė", "municipality", None),
    ("ALY-VYT", "Lopšelis-darželis „Vyturėlis“", "kindergarten", "ALY"),
    ("ALY-LIB", "Alytaus miesto biblioteka", "library", "ALY"),
    ("KVK", "Kauno kolegija", "college", None),
]

DEMO_ACCOUNTS = [
    DemoAccount("admin@demo.vle.lt", "Rasa Admin", "admin", "ALY", "demo-admin-2026", True),
    DemoAccount("trainer@demo.vle.lt", "Tomas Treneris", "trainer", "KVK", "demo-trainer-2026"),
    DemoAccount("ona@demo.vle.lt", "Ona Petraitienė", "learner", "ALY-VYT", "demo-learner-2026"),
    DemoAccount("jonas@demo.vle.lt", "Jonas Kazlauskas", "learner", "ALY-LIB", "demo-learner-2026"),
    DemoAccount("ingrid@demo.vle.lt", "Ingrid Solberg", "learner", "KVK", "demo-learner-2026"),
]


def seed_demo(db_session: Session, courses_path: Path, instance_path: str | None = None) -> None:
    for code, name, kind, parent in DEMO_ORGANISATIONS:
        if not db_session.scalar(select(Organisation.id).where(Organisation.code == code)):
            accounts.create_organisation(db_session, code, name, parent, kind)
    for account in DEMO_ACCOUNTS:
        if accounts.user_by_email(db_session, account.email) is None:
            accounts.create_user(
                db_session,
                account.email,
                account.name,
                account.role,
                account.organisation,
                password=account.password,
                network=account.network,
            )
    # File items' bytes go to the instance folder's uploads/ (vle/uploads.py).
    library.import_paths(db_session, [courses_path], instance_path)
    trainer = accounts.user_by_email(db_session, DEMO_ACCOUNTS[1].email)
    for course in db_session.scalars(select(Course)):
        if trainer is not None and trainer not in course.trainers:
            course.trainers.append(trainer)
    db_session.flush()


class NotTheDemosOwn(Exception):
    """`vle demo --fresh` was asked to remove data that is not the demo's own files."""


def remove_demo_data(app: Any) -> list[Path]:
    """`vle demo --fresh`: remove the demo's database, queue and uploaded files
    from the instance folder, so that the demo starts again from nothing. Only
    the instance folder's own SQLite files: with VLE_DATABASE_URL or
    VLE_QUEUE_URL set, nothing is removed. The secret key and the badge keys
    stay (sessions and issued badges keep working). Returns what was removed."""
    for setting in ("DATABASE_URL", "QUEUE_URL"):
        if app.config.get(setting):
            raise NotTheDemosOwn(f"VLE_{setting} is set: --fresh removes only the demo's own files")
    db.get_database(app).engine.dispose()  # no connection keeps the old file open
    instance = Path(app.instance_path)
    removed = []
    for name in ("vle.sqlite3", "queue.sqlite3"):
        for path in (instance / name, instance / f"{name}-wal", instance / f"{name}-shm"):
            if path.exists():
                path.unlink()
                removed.append(path)
    uploads = instance / "uploads"
    if uploads.exists():
        shutil.rmtree(uploads)
        removed.append(uploads)
    return removed
