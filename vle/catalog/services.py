"""Reading the catalogue: which courses exist for whom, with their content."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer, joinedload, raiseload

from vle.catalog.models import Course, CourseStatus, Item, Module
from vle.errors import NotFound
from vle.inputs import has_control
from vle.text import fold

# The languages a course may be written in, named in the reader's language.
LANGUAGE_NAMES = {
    "en": _l("English"),
    "lt": _l("Lithuanian"),
    "pl": _l("Polish"),
    "nb": _l("Norwegian Bokmål"),
}


def published_courses(db_session: Session, search: str = "", language: str = "") -> list[Course]:
    """The catalogue: published courses by title. With `search`, those where
    every word of it is found somewhere in the course's title, its summary or
    one of its items' titles (the words may be found in different places).
    Words are compared folded (`vle.text.fold`: no case, no diacritics, so
    "lodz" finds "Łódź") and as plain text: `%`, `_`, `*`, quotes, `AND` or
    `-` are looked for as typed, never as syntax. With `language`, only
    courses in that language. Two queries whatever the catalogue holds: the
    catalogue is small, so the folding is done here rather than in SQL."""
    query = select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title)
    if language:
        query = query.where(Course.language == language)
    if has_control(search):
        return []  # no text holds one: no match
    words = fold(search).split()
    courses = list(db_session.scalars(query))
    if not words or not courses:
        return courses
    texts = {course.id: [fold(course.title), fold(course.summary)] for course in courses}
    item_titles = (
        select(Module.course_id, Item.title)
        .join(Item, Item.module_id == Module.id)
        .where(Module.course_id.in_(list(texts)))
    )
    for course_id, title in db_session.execute(item_titles):
        texts[course_id].append(fold(title))
    # Fields joined by a line break, which no folded word holds: a word
    # never matches across two fields.
    found = {course_id: "\n".join(parts) for course_id, parts in texts.items()}
    return [c for c in courses if all(word in found[c.id] for word in words)]


# Built once (statement building costs as much as the lookup). With items:
# one query joining the modules and items (three separate eager loads cost
# twice as much per page); the authors' sources are for export only and stay
# out. Trainers load only when asked (`can_edit`), which an enrolled learner's
# pages never do.
_COURSE_WITH_ITEMS = (
    select(Course)
    .where(Course.slug == bindparam("slug"))
    .options(joinedload(Course.modules).joinedload(Module.items).defer(Item.source))
)
_COURSE_ALONE = (
    select(Course).where(Course.slug == bindparam("slug")).options(raiseload(Course.modules))
)
# The table of contents of course :course_id. Learning adds a learner's
# progress to it (more columns after these seven; `contents_of` reads the rows).
CONTENTS = (
    select(Module.id, Module.title, Item.id, Item.title, Item.kind, Item.minutes, Item.required)
    .outerjoin(Item, Item.module_id == Module.id)
    .where(Module.course_id == bindparam("course_id"))
    .order_by(Module.position, Module.id, Item.position, Item.id)
)


def course_for(db_session: Session, slug: str, user: Any, *, with_items: bool = True) -> Course:
    """The course with its modules and items, if `user` may see it; a draft
    the user may not see does not exist for them. `with_items=False`: the
    course alone (its modules must then not be touched; `contents` lists them)."""
    query = _COURSE_WITH_ITEMS if with_items else _COURSE_ALONE
    return visible(db_session.scalars(query, {"slug": slug}).unique().one_or_none(), user)


def visible(course: Course | None, user: Any) -> Course:
    """`course`, if there is one and `user` may see it; NotFound otherwise."""
    if course is None or not course.can_view(user):
        raise NotFound(_l("There is no such course."))
    return course


@dataclass(frozen=True, slots=True)
class ItemEntry:
    """An item as a table of contents lists it."""

    id: int
    title: str
    kind: str
    minutes: int | None
    required: bool


@dataclass(frozen=True, slots=True)
class ModuleEntry:
    id: int
    title: str
    items: tuple[ItemEntry, ...]


def contents(db_session: Session, course: Course) -> list[ModuleEntry]:
    """The course's table of contents: its modules and their items in order,
    in one query of plain columns. A learner's course page needs nothing
    more, and building a few dozen ORM objects (with every lesson's text)
    cost that page more than all its other queries together."""
    return contents_of(db_session.execute(CONTENTS, {"course_id": course.id}))


def contents_of(rows: Iterable[Sequence[Any]]) -> list[ModuleEntry]:
    """The table of contents from the rows of `CONTENTS` (or of a statement
    that adds columns to it)."""
    modules: dict[int, tuple[str, list[ItemEntry]]] = {}
    for module_id, module_title, item_id, title, kind, minutes, required, *_ in rows:
        items = modules.setdefault(module_id, (module_title, []))[1]
        if item_id is not None:
            items.append(ItemEntry(item_id, title, kind, minutes, required))
    return [ModuleEntry(mid, title, tuple(items)) for mid, (title, items) in modules.items()]


_ITEM = (
    select(Item)
    .join(Module, Module.id == Item.module_id)
    .where(Item.id == bindparam("item_id"), Module.course_id == bindparam("course_id"))
    .options(defer(Item.source))
)


def item_of(db_session: Session, course: Course, item_id: int) -> Item:
    """Item `item_id` of `course` (one query), or NotFound."""
    item = db_session.scalar(_ITEM, {"item_id": item_id, "course_id": course.id})
    if item is None:
        raise NotFound(_l("There is no such item in this course."))
    return item


def item_in(course: Course, item_id: int) -> Item:
    """An item of an already loaded course (no query), or NotFound."""
    for item in course.items:
        if item.id == item_id:
            return item
    raise NotFound(_l("There is no such item in this course."))


# An item with its course, in one query: the course alone (its modules are
# not loaded; `contents` lists them), the item without its author's source.
_ITEM_AND_COURSE = (
    select(Item, Course)
    .join(Module, Module.id == Item.module_id)
    .join(Course, Course.id == Module.course_id)
    .where(Item.id == bindparam("item_id"))
    .options(defer(Item.source), raiseload(Course.modules))
)


def course_and_item(db_session: Session, item_id: int, user: Any) -> tuple[Course, Item]:
    """Item `item_id` and its course (one query), if `user` may see the
    course; NotFound otherwise (a draft's item does not exist for others)."""
    row = db_session.execute(_ITEM_AND_COURSE, {"item_id": item_id}).first()
    if row is None:
        raise NotFound(_l("There is no such item."))
    return visible(row[1], user), row[0]


def bump_version(db_session: Session, obj: Course | Module | Item) -> None:
    """Raise the version of a course, module or item whose own columns were
    changed in this session (a save, a re-import): an editor holding the old
    version then gets a conflict instead of overwriting the change. A new
    object keeps version 1. (A reorder in the browser moves positions with
    plain UPDATEs, so it raises no one's version; see authoring/editing.py.)"""
    if obj.id is not None and db_session.is_modified(obj, include_collections=False):
        obj.version += 1
