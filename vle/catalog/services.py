"""Reading the catalogue: which courses exist for whom, with their content."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from vle.catalog.models import Course, CourseStatus, Item, Module
from vle.errors import NotFound


def published_courses(db_session: Session, search: str = "") -> list[Course]:
    """The catalogue: published courses by title, optionally those whose title
    contains `search` (case-insensitive)."""
    query = select(Course).where(Course.status == CourseStatus.PUBLISHED).order_by(Course.title)
    search = search.strip()
    if search:
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Course.title).like(f"%{escaped}%", escape="\\"))
    return list(db_session.scalars(query))


def course_for(db_session: Session, slug: str, user: Any) -> Course:
    """The course with its modules and items, if `user` may see it; a draft
    the user may not see does not exist for them."""
    # One query: the course joined to its modules and items (three separate
    # eager loads cost twice as much per page). The authors' sources are for
    # export only and stay out. Trainers load only when asked (`can_edit`),
    # which an enrolled learner's pages never do.
    course = (
        db_session.scalars(
            select(Course)
            .where(Course.slug == slug)
            .options(joinedload(Course.modules).joinedload(Module.items).defer(Item.source))
        )
        .unique()
        .one_or_none()
    )
    if course is None or not course.can_view(user):
        raise NotFound(_l("There is no such course."))
    return course


def item_in(course: Course, item_id: int) -> Item:
    """An item of an already loaded course (no query), or NotFound."""
    for item in course.items:
        if item.id == item_id:
            return item
    raise NotFound(_l("There is no such item in this course."))


def course_of_item(db_session: Session, item_id: int, user: Any) -> Course:
    """The course holding item `item_id`, loaded as `course_for` does."""
    slug = db_session.scalar(select(Course.slug).join(Module).join(Item).where(Item.id == item_id))
    if slug is None:
        raise NotFound(_l("There is no such item."))
    return course_for(db_session, slug, user)
