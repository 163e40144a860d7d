"""Announcements (PRODUCT.md §2 "The network"): for the whole network (by its
administrators), an organisation's subtree (by that organisation's
administrators) or one course (by its trainers). Shown on the home page of
exactly the people they are meant for from `starts_at` until `ends_at`, and,
when asked, mailed once by the worker (the "announcement" notification kind,
which each person may stop)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.orm import Session, selectinload

from vle import db
from vle.accounts.models import Organisation, User
from vle.audit import audit
from vle.catalog.models import Course, course_trainers
from vle.community import forums
from vle.community.models import Announcement
from vle.db import utcnow
from vle.errors import Forbidden, Invalid, NotFound
from vle.mail import services as mail
from vle.mail.queue import crontab, periodic_task
from vle.sanitize import markdown_to_html

KIND = "announcement"
MAX_TITLE = 300
MAX_MESSAGE = 20_000

mail.KIND_LABELS[KIND] = _l("announcements")


class AnnouncementRefused(Invalid):
    """A refusal that belongs beside one field of the form."""

    def __init__(self, field: str, message: Any):
        super().__init__(message)
        self.field = field


@dataclass
class Fields:
    title: str
    message: str
    starts_at: datetime | None
    ends_at: datetime | None
    send_mail: bool
    organisation: Organisation | None = None
    course: Course | None = None


# ------------------------------------------------------------------ who may


def may_announce(user: Any, organisation: Organisation | None, course: Course | None) -> bool:
    """The network: its administrators; a subtree: that organisation's
    administrators; a course: its trainers (and network administrators)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if course is not None:
        return course.can_edit(user)
    if organisation is not None:
        return bool(user.administers(organisation))
    return bool(user.is_network_admin)


def may_announce_somewhere(db_session: Session, user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    return _taught_course_ids(db_session, user) != []


def may_change(user: Any, item: Announcement) -> bool:
    return may_announce(user, item.organisation, item.course)


def _taught_course_ids(db_session: Session, user: User) -> list[int]:
    return list(
        db_session.scalars(
            select(course_trainers.c.course_id).where(course_trainers.c.user_id == user.id)
        )
    )


# ------------------------------------------------------------------ reading


def _meant_for(db_session: Session, user: User) -> Any:
    """The condition "meant for `user`": everyone's, their organisation's or
    an ancestor's, or a course they learn in or teach."""
    ancestors = [int(part) for part in user.organisation.path.strip("/").split("/") if part]
    courses = set(forums.course_roles().course_ids(db_session, user))
    courses |= set(_taught_course_ids(db_session, user))
    return or_(
        and_(Announcement.organisation_id.is_(None), Announcement.course_id.is_(None)),
        Announcement.organisation_id.in_(ancestors) if ancestors else false(),
        Announcement.course_id.in_(sorted(courses)) if courses else false(),
    )


def current_for(db_session: Session, user: User, now: datetime | None = None) -> list[Announcement]:
    """What `user`'s home page shows: meant for them, started, not ended; newest first."""
    now = now or utcnow()
    return list(
        db_session.scalars(
            select(Announcement)
            .where(
                _meant_for(db_session, user),
                Announcement.starts_at <= now,
                or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
            )
            .order_by(Announcement.starts_at.desc(), Announcement.id.desc())
        )
    )


def is_current(item: Announcement, now: datetime) -> bool:
    return item.starts_at <= now and (item.ends_at is None or item.ends_at > now)


def listing(db_session: Session, user: User, now: datetime | None = None) -> list[Announcement]:
    """The page /network/announcements: those meant for the user that have
    started, and every one the user wrote (scheduled too); current first,
    then the newest."""
    now = now or utcnow()
    rows = db_session.scalars(
        select(Announcement)
        .options(selectinload(Announcement.author))
        .where(
            or_(
                and_(_meant_for(db_session, user), Announcement.starts_at <= now),
                Announcement.author_id == user.id,
            )
        )
        .order_by(Announcement.starts_at.desc(), Announcement.id.desc())
    )
    return sorted(rows, key=lambda item: not is_current(item, now))


def get(db_session: Session, announcement_id: int) -> Announcement:
    item = db_session.get(Announcement, announcement_id)
    if item is None:
        raise NotFound(_l("No such announcement."))
    return item


# ------------------------------------------------------------------ writing


def _check(fields: Fields, now: datetime) -> tuple[str, str, datetime]:
    title = " ".join(fields.title.split())
    if not title:
        raise AnnouncementRefused("title", _l("Give the announcement a title."))
    if len(title) > MAX_TITLE:
        raise AnnouncementRefused(
            "title", _l("The title is too long: at most %(max)d characters.", max=MAX_TITLE)
        )
    message = fields.message.strip()
    if not message:
        raise AnnouncementRefused("message", _l("Write the message."))
    if len(message) > MAX_MESSAGE:
        raise AnnouncementRefused(
            "message", _l("The message is too long: at most %(max)d characters.", max=MAX_MESSAGE)
        )
    starts = fields.starts_at or now
    if fields.ends_at is not None and fields.ends_at <= starts:
        raise AnnouncementRefused("ends_at", _l("The end must come after the start."))
    if fields.organisation is not None and fields.course is not None:
        raise AnnouncementRefused("audience", _l("Choose one audience."))
    return title, message, starts


def _audience(item: Announcement) -> dict[str, Any]:
    if item.course is not None:
        return {"course": item.course.slug}
    if item.organisation is not None:
        return {"organisation": item.organisation.code}
    return {"everyone": True}


def _audit(
    db_session: Session, actor: User, action: str, item: Announcement, address: str | None
) -> None:
    audit(
        db_session,
        actor,
        action,
        "announcement",
        item.id,
        address,
        {**_audience(item), "send_mail": item.send_mail},
        organisation_id=item.organisation_id,
        label=item.title,
    )


def create(
    db_session: Session, actor: User, fields: Fields, address: str | None = None
) -> Announcement:
    if not may_announce(actor, fields.organisation, fields.course):
        raise Forbidden(_l("You may not make announcements for this audience."))
    title, message, starts = _check(fields, utcnow())
    item = Announcement(
        author_id=actor.id,
        organisation_id=fields.organisation.id if fields.organisation else None,
        course_id=fields.course.id if fields.course else None,
        title=title,
        source=message,
        body_html=markdown_to_html(message),
        starts_at=starts,
        ends_at=fields.ends_at,
        send_mail=fields.send_mail,
    )
    db_session.add(item)
    db_session.flush()
    _audit(db_session, actor, "announcement.create", item, address)
    return item


def change(
    db_session: Session,
    actor: User,
    item: Announcement,
    fields: Fields,
    address: str | None = None,
) -> None:
    """Change the text, dates, mail and audience (both the old and the new
    audience must be the actor's). Mailed already: not mailed again."""
    if not may_change(actor, item) or not may_announce(actor, fields.organisation, fields.course):
        raise Forbidden(_l("You may not change this announcement."))
    title, message, starts = _check(fields, item.starts_at)
    item.title, item.source, item.body_html = title, message, markdown_to_html(message)
    item.starts_at, item.ends_at, item.send_mail = starts, fields.ends_at, fields.send_mail
    item.organisation_id = fields.organisation.id if fields.organisation else None
    item.course_id = fields.course.id if fields.course else None
    db_session.flush()
    db_session.expire(item, ["organisation", "course"])
    _audit(db_session, actor, "announcement.update", item, address)


def delete(
    db_session: Session, actor: User, item: Announcement, address: str | None = None
) -> None:
    if not may_change(actor, item):
        raise Forbidden(_l("You may not delete this announcement."))
    _audit(db_session, actor, "announcement.delete", item, address)
    db_session.delete(item)
    db_session.flush()


# ------------------------------------------------------------------ mailing


def recipients(db_session: Session, item: Announcement) -> list[User]:
    """Everyone the announcement is meant for (active, not erased)."""
    query = select(User).where(User.active.is_(True), User.erased_at.is_(None))
    if item.course is not None:
        ids = set(forums.course_roles().learner_ids(db_session, item.course))
        ids |= {trainer.id for trainer in item.course.trainers}
        query = query.where(User.id.in_(sorted(ids)))
    elif item.organisation is not None:
        query = query.join(Organisation, User.organisation_id == Organisation.id).where(
            Organisation.path.startswith(item.organisation.path)
        )
    return list(db_session.scalars(query.order_by(User.id)))


def mail_announcement(db_session: Session, announcement_id: int) -> int:
    """Mail a started announcement to its audience once (claimed by one
    UPDATE), each in their language, unless they stopped announcements.
    How many people it was for."""
    claimed = db_session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.mailed_at.is_(None))
        .values(mailed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    item = get(db_session, announcement_id)
    url = mail.external_url("community.announcements", _anchor=f"announcement-{item.id}")
    context = {
        "title": item.title,
        "text": item.source,
        "body_html": item.body_html,
        "author_name": item.author.name if item.author else "",
        "url": url,
    }
    people = [(person, None) for person in recipients(db_session, item)]
    return mail.notify_people(
        db_session, people, kind=KIND, context=context, key=f"announcement:{item.id}", url=url
    )


def due_mailings(db_session: Session, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        db_session.scalars(
            select(Announcement.id).where(
                Announcement.send_mail.is_(True),
                Announcement.mailed_at.is_(None),
                Announcement.starts_at <= now,
                or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
            )
        )
    )


@periodic_task(crontab(minute="*"))
def mail_announcements() -> int:
    """Each minute: the announcements that have started and are to be mailed."""
    with db.transaction() as db_session:
        due = due_mailings(db_session)
    told = 0
    for announcement_id in due:
        with db.transaction() as db_session:
            told += mail_announcement(db_session, announcement_id)
    return told
