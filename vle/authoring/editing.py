"""What every save of the trainer's editor shares: who may edit or read a
course in the editor, versions and conflicts, and the audit entry.

Versions: a course, a module and an item each carry `version` (migration
0014). An edit form holds the version it was opened on; the save checks it
(`expect_version`) and raises the version by one. A save based on an older
version raises `EditConflict`, and the view shows the conflict page
(vle/authoring/conflicts.py) with both versions side by side: never a silent
overwrite. Two saves racing inside the same instant are caught by the ORM as
well (the UPDATE says `WHERE version = …`): `saving()` turns that into the
same conflict.

A reorder moves positions with plain UPDATEs and raises no version: a trainer
editing a lesson while someone moves it gets no conflict for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from vle.accounts.models import Organisation, User
from vle.audit import audit
from vle.catalog.models import Course, Item, Module
from vle.errors import Conflict, Forbidden, NotFound


class EditConflict(Conflict):
    """Someone saved the object since the editor was opened. `current` is
    the object as saved now (None when a racing save was caught at flush:
    the view then loads it again)."""

    def __init__(self, current: Course | Module | Item | None = None):
        super().__init__(
            str(_l("Someone else saved this since you opened it. Nothing of yours was lost."))
        )
        self.current = current


def expect_version(obj: Course | Module | Item, based_on: int | None) -> None:
    """The save is based on `based_on`: a conflict unless that is the
    object's version now; else the version is raised for this save."""
    if based_on is None or based_on != obj.version:
        raise EditConflict(obj)
    obj.version = obj.version + 1


@contextmanager
def saving() -> Iterator[None]:
    """Around a save's transaction: a racing save caught by the ORM's
    version check becomes an EditConflict (the view reloads and shows it)."""
    try:
        yield
    except StaleDataError as exc:
        raise EditConflict(None) from exc


# --------------------------------------------------------------------------- names

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")  # the courses/ format's rule
SLUG_MAX = 100
# Letters NFKD does not take apart into a base letter and a mark.
_FOLDED = str.maketrans(
    {"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
     "ß": "ss", "đ": "d", "Đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t",
     "ŋ": "n", "ĸ": "k"}
)  # fmt: skip


def slug_from_title(title: str, fallback: str) -> str:
    """The slug a title (or a file name) gives — of a course, module, item or
    uploaded zip: ASCII letters and digits joined by hyphens, diacritics
    folded (ą→a, ł→l, ø→o, æ→ae), at most 100 characters; `fallback` when
    nothing is left."""
    text = unicodedata.normalize("NFKD", title.translate(_FOLDED))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    text = text[:SLUG_MAX].rstrip("-")
    return text if SLUG.match(text) else fallback


def unique_slug(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`… (shortened to fit) if it is taken."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


# --------------------------------------------------------------------------- who may


def _course(db_session: Session, slug: str) -> Course | None:
    return db_session.scalar(
        select(Course)
        .where(Course.slug == slug)
        .options(
            selectinload(Course.modules).selectinload(Module.items),
            selectinload(Course.trainers).selectinload(User.organisation),
        )
    )


def can_read(course: Course, user: Any) -> bool:
    """Who sees a course in the editor (read-only unless `course.can_edit`):
    its editors, and an administrator whose organisation subtree holds one
    of its trainers (PRODUCT.md: "an administrator of an organisation sees
    the courses of their organisations' trainers")."""
    if course.can_edit(user):
        return True
    if getattr(user, "role", None) != "admin":
        return False
    scope: Organisation = user.organisation
    return any(scope.contains(trainer.organisation) for trainer in course.trainers)


def readable_course(db_session: Session, slug: str, user: Any) -> Course:
    """Course `slug` with its modules, items and trainers, for the editor's
    read-only pages; NotFound for anyone who may not read it there."""
    course = _course(db_session, slug)
    if course is None or not can_read(course, user):
        raise NotFound(str(_l("There is no such course.")))
    return course


def editable_course(db_session: Session, slug: str, user: Any) -> Course:
    """Course `slug` with its modules, items and trainers, if `user` may
    edit it: its trainers and network administrators. Someone who may read
    it (an administrator of its trainers' organisation) gets Forbidden;
    anyone else NotFound (a draft does not exist for them)."""
    course = readable_course(db_session, slug, user)
    if not course.can_edit(user):
        raise Forbidden(str(_l("Only the course's trainers and network administrators edit it.")))
    return course


def module_of(course: Course, module_id: int) -> Module:
    for module in course.modules:
        if module.id == module_id:
            return module
    raise NotFound(str(_l("There is no such module in this course.")))


def item_of(course: Course, item_id: int) -> Item:
    for module in course.modules:
        for item in module.items:
            if item.id == item_id:
                return item
    raise NotFound(str(_l("There is no such item in this course.")))


# --------------------------------------------------------------------------- audit


def record(
    db_session: Session,
    user: User,
    address: str | None,
    action: str,
    course: Course,
    details: dict[str, Any] | None = None,
) -> None:
    """The audit entry of an edit: `authoring.<action>` on the course (its
    title as the label), readable by the administrators of the editor's
    organisation. `details` name what changed (ids, slugs, fields), never
    personal data."""
    db_session.flush()  # a new course has its id
    audit(
        db_session,
        user,
        f"authoring.{action}",
        "course",
        course.id,
        address,
        details or {},
        organisation_id=user.organisation_id,
        label=course.title,
    )
