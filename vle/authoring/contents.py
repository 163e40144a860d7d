"""A course's contents in the trainer's editor: modules and items added,
edited, reordered, moved and deleted (issue 17, points 3 and 5).

The rules:

- **Who**: the editor's pages read a course through `course_for_editor`:
  editing is for the course's trainers and network administrators
  (`Course.can_edit`); an administrator of its trainers' organisation may
  read the editor's contents page (`editing.can_read`) and changes nothing
  (Forbidden); anyone else finds no course (NotFound). An id in a URL names
  a module or item of that course, or nothing (`editing.module_of/item_of`).
- **Names as the files have them**: a module's or item's slug comes from its
  title, folded to ASCII (`ė` → `e`, `ł` → `l`) as the course slug rule
  `^[a-z0-9][a-z0-9-]{0,99}$`; a module's slug is unique in its course, an
  item's in the whole course (the courses/ layout requires it), with `-2`,
  `-3`… when taken. A slug stays when the title changes (it names the file;
  learners' progress survives a re-import by it). The prefix of a new module
  or item is two digits, one more than the highest of its siblings, so an
  export lists the folder in the order learners see.
- **Versions**: an edit is based on the version its form was opened on
  (`editing.expect_version`): a save based on an older one is a conflict,
  never an overwrite. A reorder or a move to another module is not an edit
  of anyone's text: plain UPDATEs of position, prefix (and module), one
  statement, no version raised.
- **Learners' progress**: deleting an item or a module first copies what
  learners did on its items into their history
  (`learning.keep_removed_progress`), then deletes (their live progress and
  quiz attempts go with the items), then derives the completion of those
  still in progress again (`learning.recount_course`): a learner who had
  done every other required item is now complete. Completions already
  recorded stay. Adding a required item, or making an item required or
  optional, derives it again too.
- **A course keeps at least one module**: the courses/ layout needs a module
  folder, so the last module cannot be deleted (delete or move its items,
  or rename it, instead).
- **Lessons and links**: a lesson's Markdown `source` is published as
  `vle.sanitize.markdown_to_html(source)`, exactly as the import does; the
  preview shows that same HTML. A link's address (`settings["url"]`) is an
  absolute http or https URL with a host; anything else (`javascript:`,
  `data:`, a relative path) is refused. Its optional Markdown description
  is published the same way as a lesson.
- **Audit**: every change is recorded (`editing.record`) with the ids and
  slugs it touched.

Every function takes the Session of the caller's transaction and flushes;
the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, distinct, func, select, update
from sqlalchemy.orm import Session, contains_eager, defer, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from vle.accounts.models import User
from vle.authoring import editing
from vle.authoring.models import Attempt, ItemProgress
from vle.authoring.services import FieldError
from vle.catalog.models import Course, Item, Module
from vle.errors import Forbidden, Invalid, NotFound
from vle.inputs import has_control
from vle.learning import services as learning
from vle.sanitize import markdown_to_html

TITLE_MAX = 300
URL_MAX = 2000
MINUTES_MAX = 10_000

KIND_NAMES = {
    "lesson": _l("Lesson"),
    "quiz": _l("Quiz"),
    "file": _l("File"),
    "link": _l("Link"),
}


# --------------------------------------------------------------------------- loading


def course_for_editor(
    db_session: Session, slug: str, user: Any, *, edit: bool = True, contents: bool = False
) -> Course:
    """Course `slug` with its trainers, if `user` may edit it (`edit`) or
    read it in the editor; Forbidden for one who may only read it, NotFound
    for anyone else. `contents`: its modules and items as well, in a fixed
    number of queries whatever its size, the items' texts left out. Without
    it, what a save touches loads when touched (a lesson saved in a course
    of a thousand loads one item, a move one module's items)."""
    query = select(Course).where(Course.slug == slug)
    if contents:
        query = query.options(
            selectinload(Course.modules)
            .selectinload(Module.items)
            .options(defer(Item.source), defer(Item.body_html))
        )
    course = db_session.scalar(
        query.options(selectinload(Course.trainers).selectinload(User.organisation))
    )
    if course is None or not editing.can_read(course, user):
        raise NotFound(str(_l("There is no such course.")))
    if edit and not course.can_edit(user):
        raise Forbidden(str(_l("Only the course's trainers and network administrators edit it.")))
    return course


def item_in(db_session: Session, course: Course, item_id: int, *, siblings: bool = False) -> Item:
    """Item `item_id` of `course` with its module (one query), or NotFound.
    `siblings`: its module's items too (one more), for a move."""
    query = (
        select(Item)
        .join(Item.module)
        .where(Item.id == item_id, Module.course_id == course.id)
        .options(contains_eager(Item.module), defer(Item.body_html))
    )
    if siblings:
        query = query.options(
            contains_eager(Item.module)
            .selectinload(Module.items)
            .options(defer(Item.source), defer(Item.body_html))
        )
    item = db_session.scalar(query)
    if item is None:
        raise NotFound(str(_l("There is no such item in this course.")))
    return item


def module_in(course: Course, module_id: int) -> Module:
    """Module `module_id` of `course` (its modules load if they were not), or NotFound."""
    return editing.module_of(course, module_id)


def kind_name(kind: str) -> str:
    return str(KIND_NAMES.get(kind, kind))


# --------------------------------------------------------------------------- names


def _next_prefix(siblings: list[Any]) -> tuple[int, str]:
    """(position, prefix) after the last of `siblings` (modules or items)."""
    position = max((s.position for s in siblings), default=0) + 1
    numbers = [int(s.prefix) for s in siblings if s.prefix.isdigit()]
    number = max([*numbers, len(siblings)], default=0) + 1
    return position, f"{number:02d}"


def append_item(db_session: Session, course: Course, module: Module, item: Item) -> None:
    """Put a new item (a lesson, link, file or quiz) at the end of `module`:
    its slug from its title (its kind when the title gives none), unique in
    the course as the courses/ format requires; its position and number after
    the module's last item. Flushed, so it has its id."""
    taken = set(
        db_session.scalars(select(Item.slug).join(Item.module).where(Module.course_id == course.id))
    )
    item.slug = editing.unique_slug(editing.slug_from_title(item.title, item.kind), taken)
    item.position, item.prefix = _next_prefix(module.items)
    module.items.append(item)
    db_session.flush()


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise FieldError(str(_l("Give a title.")), "title")
    if len(title) > TITLE_MAX:
        raise FieldError(str(_l("A title is at most %(max)d characters.", max=TITLE_MAX)), "title")
    if has_control(title):
        raise FieldError(str(_l("Control characters (such as NUL) are not allowed here.")), "title")
    return title


def _source(text: str | None, kind: str) -> str:
    """Markdown as the import keeps it (so a course round-trips through its
    files unchanged): Unix line ends and one final newline; a lesson's text
    always ends in one, a link's blank description is empty."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if has_control(text, multiline=True):
        raise FieldError(
            str(_l("Control characters (such as NUL) are not allowed here.")), "source"
        )
    if kind != "lesson" and not text.strip():
        return ""
    return text.strip("\n") + "\n"


def _minutes(minutes: int | None) -> int | None:
    if minutes is not None and not 0 <= minutes <= MINUTES_MAX:
        raise FieldError(
            str(_l("Minutes are a number from 0 to %(max)d.", max=MINUTES_MAX)), "minutes"
        )
    return minutes


def check_url(url: str | None) -> str:
    """A link's address: an absolute http or https URL with a host, at most
    2,000 characters; FieldError("url") otherwise (`javascript:`, `data:`, a
    relative address, spaces inside)."""
    url = (url or "").strip()
    wrong = FieldError(
        str(_l("Give a full web address that starts with http:// or https://.")), "url"
    )
    if not url or len(url) > URL_MAX or has_control(url) or any(c.isspace() for c in url):
        raise wrong
    try:
        parts = urlsplit(url)
    except ValueError:
        raise wrong from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise wrong
    return url


def render_markdown(source: str | None) -> str:
    """Markdown as learners will see it: the one sanitising policy, as the
    import publishes a lesson (the preview shows exactly this)."""
    return markdown_to_html((source or "").replace("\r\n", "\n"))


# --------------------------------------------------------------------------- modules


def add_module(
    db_session: Session, user: User, address: str | None, course: Course, title: str
) -> Module:
    """A new module at the end of the course: slug from its title (unique in
    the course), prefix one more than the last."""
    title = _title(title)
    slug = editing.unique_slug(
        editing.slug_from_title(title, "module"), {m.slug for m in course.modules}
    )
    position, prefix = _next_prefix(course.modules)
    module = Module(slug=slug, title=title, position=position, prefix=prefix)
    course.modules.append(module)
    db_session.flush()
    editing.record(
        db_session, user, address, "module.add", course, {"module": module.id, "slug": slug}
    )
    return module


def edit_module(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    module: Module,
    title: str,
    version: int | None,
) -> None:
    """A module's title, saved over version `version` (EditConflict if it
    was saved since). The slug stays."""
    title = _title(title)
    editing.expect_version(module, version)
    old = module.title
    module.title = title
    db_session.flush()
    editing.record(
        db_session, user, address, "module.edit", course,
        {"module": module.id, "slug": module.slug, "changed": ["title"] if old != title else []},
    )  # fmt: skip


def _swap(db_session: Session, model: type[Module] | type[Item], a: Any, b: Any) -> None:
    """`a` and `b` trade places (position and prefix): one UPDATE, no
    version raised (nobody's text changed)."""
    db_session.execute(
        update(model)
        .where(model.id.in_([a.id, b.id]))
        .values(
            position=case((model.id == a.id, b.position), else_=a.position),
            prefix=case((model.id == a.id, b.prefix), else_=a.prefix),
        )
        .execution_options(synchronize_session=False)
    )
    a_place, b_place = (a.position, a.prefix), (b.position, b.prefix)
    for obj, (position, prefix) in ((a, b_place), (b, a_place)):
        set_committed_value(obj, "position", position)
        set_committed_value(obj, "prefix", prefix)


def _neighbour(siblings: list[Any], obj: Any, direction: str) -> Any | None:
    index = next(i for i, s in enumerate(siblings) if s.id == obj.id)
    other = index - 1 if direction == "up" else index + 1
    return siblings[other] if 0 <= other < len(siblings) else None


def _direction(direction: str) -> str:
    if direction not in ("up", "down"):
        raise Invalid(str(_l("Choose Move up or Move down.")))
    return direction


def move_module(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    module: Module,
    direction: str,
) -> bool:
    """Module `module` one place up or down (it trades places with its
    neighbour). False, and nothing changed, at either end."""
    other = _neighbour(course.modules, module, _direction(direction))
    if other is None:
        return False
    _swap(db_session, Module, module, other)
    db_session.expire(course, ["modules"])
    editing.record(
        db_session, user, address, "module.move", course,
        {"module": module.id, "slug": module.slug, "direction": direction},
    )  # fmt: skip
    return True


@dataclass(frozen=True)
class Losses:
    """What learners lose when items go: how many have progress on them, how
    many completed one of them, how many quiz attempts go with them."""

    learners: int
    completed: int
    attempts: int


def losses(db_session: Session, items: list[Item]) -> Losses:
    """What deleting `items` takes from learners' live records (two queries)."""
    ids = [item.id for item in items]
    if not ids:
        return Losses(0, 0, 0)
    learners, completed = db_session.execute(
        select(
            func.count(distinct(ItemProgress.user_id)),
            func.count(
                distinct(case((ItemProgress.completed_at.is_not(None), ItemProgress.user_id)))
            ),
        ).where(ItemProgress.item_id.in_(ids))
    ).one()
    quizzes = [item.id for item in items if item.kind == "quiz"]
    attempts = (
        db_session.scalar(select(func.count(Attempt.id)).where(Attempt.item_id.in_(quizzes)))
        if quizzes
        else 0
    )
    return Losses(learners or 0, completed or 0, attempts or 0)


def _removed(db_session: Session, course: Course, items: list[Item]) -> None:
    """Before `items` go: learners' progress on them into their history."""
    learning.keep_removed_progress(db_session, items, course.id)


def delete_module(
    db_session: Session, user: User, address: str | None, course: Course, module: Module
) -> None:
    """Delete `module` with its items: learners' progress on them is kept in
    their history, completion of those in progress is derived again,
    recorded completions stay. The course's last module stays (Invalid)."""
    if len(course.modules) <= 1:
        raise Invalid(
            str(_l("A course keeps at least one module: this is its last one. Rename it instead."))
        )
    items = list(module.items)
    _removed(db_session, course, items)
    course.modules.remove(module)
    db_session.flush()
    editing.record(
        db_session, user, address, "module.delete", course,
        {"module": module.id, "slug": module.slug, "items": [i.slug for i in items]},
    )  # fmt: skip
    if items:
        learning.recount_course(db_session, course)


# --------------------------------------------------------------------------- items


@dataclass(frozen=True)
class ItemInput:
    """What a lesson's or link's form gives: `source` is Markdown (a lesson's
    text, a link's description), `url` a link's address."""

    title: str
    required: bool
    minutes: int | None
    source: str
    url: str | None = None


def _apply(item: Item, data: ItemInput) -> list[str]:
    """Write a form's values on `item`; the names of the fields that changed."""
    title = _title(data.title)
    minutes = _minutes(data.minutes)
    source = _source(data.source, item.kind)
    changed = []
    if item.kind == "link":
        url = check_url(data.url)
        if (item.settings or {}).get("url") != url:
            item.settings = {**(item.settings or {}), "url": url}
            changed.append("url")
    for name, value in (("title", title), ("required", bool(data.required)), ("minutes", minutes)):
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.append(name)
    if item.source != source:
        item.source = source
        item.body_html = render_markdown(source)
        changed.append("source")
    return changed


def add_item(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    module: Module,
    kind: str,
    data: ItemInput,
) -> Item:
    """A new lesson or link at the end of `module`: slug from its title
    (unique in the course), prefix one more than the last item's. A required
    item derives completion again (those in progress now have one more to do)."""
    if kind not in ("lesson", "link"):
        raise Invalid(str(_l("Only lessons and links are added here.")))
    item = Item(kind=kind, title="", required=True, source="", body_html="", settings={})
    item.minutes = None
    _apply(item, data)
    append_item(db_session, course, module, item)
    editing.record(
        db_session, user, address, "item.add", course,
        {"item": item.id, "slug": item.slug, "kind": kind, "module": module.id},
    )  # fmt: skip
    if item.required:
        learning.recount_course(db_session, course)
    return item


def edit_item(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    version: int | None,
    data: ItemInput,
) -> list[str]:
    """Save a lesson or link over version `version` (EditConflict if it was
    saved since; the input is checked first, so a bad field is a form error
    whatever the version). Returns the changed fields. Making it required or
    optional derives completion again."""
    if item.kind not in ("lesson", "link"):
        raise Invalid(str(_l("Only lessons and links are edited here.")))
    was_required = item.required
    item.source  # noqa: B018 - read now if it was deferred: one UPDATE below, not two
    checked = ItemInput(
        title=_title(data.title),
        required=data.required,
        minutes=_minutes(data.minutes),
        source=_source(data.source, item.kind),
        url=check_url(data.url) if item.kind == "link" else None,
    )
    editing.expect_version(item, version)
    changed = _apply(item, checked)
    db_session.flush()
    editing.record(
        db_session, user, address, "item.edit", course,
        {"item": item.id, "slug": item.slug, "changed": changed},
    )  # fmt: skip
    if item.required != was_required:
        learning.recount_course(db_session, course)
    return changed


def move_item(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    direction: str,
) -> bool:
    """Item `item` one place up or down in its module (it trades places with
    its neighbour). False, and nothing changed, at either end."""
    module = item.module
    other = _neighbour(module.items, item, _direction(direction))
    if other is None:
        return False
    _swap(db_session, Item, item, other)
    db_session.expire(module, ["items"])
    editing.record(
        db_session, user, address, "item.move", course,
        {"item": item.id, "slug": item.slug, "direction": direction},
    )  # fmt: skip
    return True


def move_item_to(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    target: Module,
) -> bool:
    """Item `item` to the end of module `target` of the same course: one
    UPDATE, no version raised; its learners' progress stays (same item).
    False when it is there already."""
    source = item.module
    if target.id == source.id:
        return False
    if any(other.slug == item.slug for other in target.items):
        # Only in a course imported before slugs were unique course-wide.
        raise Invalid(str(_l("The module already holds an item named “%(slug)s”.", slug=item.slug)))
    position, prefix = _next_prefix(target.items)
    db_session.execute(
        update(Item)
        .where(Item.id == item.id)
        .values(module_id=target.id, position=position, prefix=prefix)
        .execution_options(synchronize_session=False)
    )
    db_session.expire(item)
    db_session.expire(source, ["items"])
    db_session.expire(target, ["items"])
    editing.record(
        db_session, user, address, "item.move", course,
        {"item": item.id, "slug": item.slug, "from": source.id, "to": target.id},
    )  # fmt: skip
    return True


def delete_item(
    db_session: Session, user: User, address: str | None, course: Course, item: Item
) -> None:
    """Delete `item` (any kind): learners' progress on it is kept in their
    history, its quiz attempts go, completion of those in progress is derived
    again (one who had done every other required item is now complete);
    recorded completions stay."""
    _removed(db_session, course, [item])
    module = item.module
    module.items.remove(item)
    db_session.flush()
    editing.record(
        db_session, user, address, "item.delete", course,
        {"item": item.id, "slug": item.slug, "kind": item.kind, "module": module.id},
    )  # fmt: skip
    learning.recount_course(db_session, course)
