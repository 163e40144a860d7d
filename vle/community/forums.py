"""Forums: one per course (its learners and staff) and network-wide ones (every
signed-in user). Threads, posts with quotes and attachments, read marks,
moderation, reports and subscription choices (PRODUCT.md §2 "The network").

Who learns in a course and who is its staff is learning's and quizzes' to say,
floors this one may not import: create_app hands their answers over at start-up
(`register_course_roles`), as the quiz item kind registers with learning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from vle import uploads
from vle.accounts.models import User
from vle.audit import audit
from vle.catalog.models import Course, course_trainers
from vle.community.models import (
    Delivery,
    Forum,
    ForumKind,
    Post,
    PostAttachment,
    PostReport,
    Subscription,
    SubscriptionPolicy,
    Thread,
    ThreadRead,
)
from vle.db import utcnow
from vle.errors import DomainError, Forbidden, Invalid, NotFound
from vle.sanitize import markdown_to_html

PER_PAGE = 25
EDIT_WINDOW = timedelta(minutes=30)  # also when a post's notifications leave
MAX_MESSAGE = 20_000  # characters
MAX_SUBJECT = 300
MAX_REASON = 1000
# Posting limit per person (staff exempt): this many posts in this long.
RATE_POSTS = 10
RATE_WINDOW = timedelta(minutes=10)


class TooManyPosts(DomainError):
    code = "too_many_requests"
    status = 429


# ---------------------------------------------------------------- course roles


CourseAnswer = Callable[[Session, User, Course], bool]


@dataclass
class CourseRoles:
    """The answers about a course that other floors give (see the module's docstring)."""

    # Is the user enrolled (an enrolment not ended)?
    is_learner: CourseAnswer = lambda _s, _u, _c: False  # noqa: E731
    # Does the user follow the course's learners (trainers, administrators of their subtree)?
    is_staff: CourseAnswer = lambda _s, user, course: course.can_edit(user)  # noqa: E731
    # The ids of the course's enrolled learners.
    learner_ids: Callable[[Session, Course], list[int]] = field(
        default=lambda _s, _c: []  # noqa: E731
    )
    # The ids of the courses the user is enrolled in.
    course_ids: Callable[[Session, User], list[int]] = field(
        default=lambda _s, _u: []  # noqa: E731
    )


_roles = CourseRoles()


def register_course_roles(roles: CourseRoles) -> None:
    global _roles
    _roles = roles


def course_roles() -> CourseRoles:
    """Who learns in a course and who is its staff, as learning and quizzes
    answer it (handed over at start-up by `register_course_roles`; until
    then nobody learns and a course's editors are its staff)."""
    return _roles


# ----------------------------------------------------------------- permissions


def can_read(db_session: Session, user: Any, forum: Forum) -> bool:
    """A network forum: every signed-in user. A course's: its learners and staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    if forum.course is None:
        return True
    return may_open_course_forum(db_session, user, forum.course)


def may_open_course_forum(db_session: Session, user: Any, course: Course) -> bool:
    """A course's forum is for its learners and its staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    roles = course_roles()
    return roles.is_learner(db_session, user, course) or roles.is_staff(db_session, user, course)


def can_moderate(db_session: Session, user: Any, forum: Forum) -> bool:
    """A course's forum: the course's staff. A network forum: administrators."""
    if not getattr(user, "is_authenticated", False):
        return False
    if forum.course is None:
        return bool(user.is_admin)
    return course_roles().is_staff(db_session, user, forum.course)


def can_create_forum(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_network_admin)


def is_locked(thread: Thread, now: datetime | None = None) -> bool:
    """Locked by a moderator, or idle for the forum's `lock_after_days`."""
    if thread.locked:
        return True
    days = thread.forum.lock_after_days
    return days is not None and thread.last_post_at < (now or utcnow()) - timedelta(days=days)


def _require_reader(db_session: Session, user: Any, forum: Forum) -> None:
    if not can_read(db_session, user, forum):
        raise Forbidden(_l("Only the course's learners and staff can read its forum."))


def _require_moderator(db_session: Session, user: Any, forum: Forum) -> None:
    if not can_moderate(db_session, user, forum):
        raise Forbidden(_l("Only the forum's moderators can do this."))


def readable_thread(db_session: Session, user: Any, thread_id: int) -> Thread:
    """The thread, NotFound when there is none (or it is hidden and the user
    does not moderate it), Forbidden when the user may not read its forum."""
    thread = db_session.get(Thread, thread_id)
    if thread is None:
        raise NotFound(_l("There is no such thread."))
    _require_reader(db_session, user, thread.forum)
    if thread.hidden and not can_moderate(db_session, user, thread.forum):
        raise NotFound(_l("There is no such thread."))
    return thread


def readable_forum(db_session: Session, user: Any, forum_id: int) -> Forum:
    forum = db_session.get(Forum, forum_id)
    if forum is None:
        raise NotFound(_l("There is no such forum."))
    _require_reader(db_session, user, forum)
    return forum


def _sees_all_posts(db_session: Session, user: Any, thread: Thread) -> bool:
    """Q&A: a learner sees the others' replies once they posted in the thread."""
    if ForumKind(thread.forum.kind) != ForumKind.QA or can_moderate(db_session, user, thread.forum):
        return True
    return (
        db_session.scalar(
            select(Post.id).where(Post.thread_id == thread.id, Post.author_id == user.id).limit(1)
        )
        is not None
    )


def _first_post_id(db_session: Session, thread: Thread) -> int | None:
    return db_session.scalar(
        select(Post.id)
        .where(Post.thread_id == thread.id)
        .order_by(Post.created_at, Post.id)
        .limit(1)
    )


def may_see_post(db_session: Session, user: Any, post: Post) -> bool:
    """Whether `user` reads `post`: its thread readable and shown, the post not
    hidden (moderators see hidden ones), and the Q&A rule."""
    thread = post.thread
    if not can_read(db_session, user, thread.forum):
        return False
    moderator = can_moderate(db_session, user, thread.forum)
    if (thread.hidden or post.hidden) and not moderator:
        return False
    if post.author_id == user.id or _sees_all_posts(db_session, user, thread):
        return True
    return post.id == _first_post_id(db_session, thread)


# ---------------------------------------------------------------------- forums


def course_forum(db_session: Session, user: Any, course: Course) -> Forum:
    """The course's forum, made on first use, for its learners and staff."""
    if not may_open_course_forum(db_session, user, course):
        raise Forbidden(_l("Only the course's learners and staff can read its forum."))
    forum = db_session.scalar(select(Forum).where(Forum.course_id == course.id))
    if forum is None:
        forum = Forum(course=course, title=course.title[:300], description="")
        db_session.add(forum)
        db_session.flush()
    return forum


def create_forum(
    db_session: Session,
    actor: User,
    *,
    title: str,
    description: str = "",
    kind: str = ForumKind.STANDARD,
    subscription: str = SubscriptionPolicy.OPTIONAL,
    lock_after_days: int | None = None,
    address: str | None = None,
) -> Forum:
    """A network-wide forum, by a network administrator."""
    if not can_create_forum(actor):
        raise Forbidden(_l("Only network administrators can create network forums."))
    title = " ".join(title.split())
    if not title or len(title) > MAX_SUBJECT:
        raise Invalid(_l("Give the forum a title of at most 300 characters."))
    if kind not in set(ForumKind) or subscription not in set(SubscriptionPolicy):
        raise Invalid(_l("Choose a kind and a subscription policy from the list."))
    if lock_after_days is not None and lock_after_days < 1:
        raise Invalid(_l("Lock after a number of days of at least 1, or leave it empty."))
    forum = Forum(
        title=title,
        description=description.strip(),
        kind=kind,
        subscription=subscription,
        lock_after_days=lock_after_days,
    )
    db_session.add(forum)
    db_session.flush()
    audit(db_session, actor, "forum.create", "forum", forum.id, address, label=title)
    return forum


@dataclass
class ForumLists:
    network: list[Forum]
    courses: list[Forum]


def forums_for(db_session: Session, user: User) -> ForumLists:
    """The network forums and the forums of the user's courses (enrolled or trained)."""
    network = list(
        db_session.scalars(
            select(Forum).where(Forum.course_id.is_(None)).order_by(Forum.position, Forum.title)
        )
    )
    trained = select(course_trainers.c.course_id).where(course_trainers.c.user_id == user.id)
    course_ids = set(course_roles().course_ids(db_session, user)) | set(db_session.scalars(trained))
    courses = (
        list(
            db_session.scalars(
                select(Forum)
                .where(Forum.course_id.in_(course_ids))
                .options(selectinload(Forum.course))
                .order_by(Forum.title)
            )
        )
        if course_ids
        else []
    )
    return ForumLists(network, courses)


def forums_moderated(db_session: Session, user: User) -> list[Forum]:
    """Forums `user` moderates (where a moderator may move a thread to)."""
    forums = db_session.scalars(
        select(Forum).options(selectinload(Forum.course)).order_by(Forum.title)
    )
    return [forum for forum in forums if can_moderate(db_session, user, forum)]


# --------------------------------------------------------------------- threads


@dataclass
class ThreadLine:
    thread: Thread
    unread: int
    locked: bool


@dataclass
class Listing:
    lines: list[ThreadLine]
    page: int
    pages: int


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PER_PAGE))


def thread_listing(
    db_session: Session, user: User, forum: Forum, page: int = 1, now: datetime | None = None
) -> Listing:
    """A page of the forum's threads: pinned first, then the latest activity;
    each with how many posts the user has not read. Hidden threads only for
    moderators."""
    _require_reader(db_session, user, forum)
    now = now or utcnow()
    shown = Thread.forum_id == forum.id
    if not can_moderate(db_session, user, forum):
        shown = and_(shown, Thread.hidden.is_(False))
    total = db_session.scalar(select(func.count()).select_from(Thread).where(shown)) or 0
    pages = _pages(total)
    page = min(max(page, 1), pages)
    threads = list(
        db_session.scalars(
            select(Thread)
            .where(shown)
            .options(selectinload(Thread.author))
            .order_by(Thread.pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    unread = _unread_counts(db_session, user, [t.id for t in threads])
    return Listing(
        [ThreadLine(t, unread.get(t.id, 0), is_locked(t, now)) for t in threads], page, pages
    )


def _unread_counts(db_session: Session, user: User, thread_ids: list[int]) -> dict[int, int]:
    if not thread_ids:
        return {}
    rows = db_session.execute(
        select(Post.thread_id, func.count(Post.id))
        .outerjoin(
            ThreadRead,
            and_(ThreadRead.thread_id == Post.thread_id, ThreadRead.user_id == user.id),
        )
        .where(
            Post.thread_id.in_(thread_ids),
            Post.hidden.is_(False),
            or_(Post.author_id.is_(None), Post.author_id != user.id),
            or_(ThreadRead.read_at.is_(None), Post.created_at > ThreadRead.read_at),
        )
        .group_by(Post.thread_id)
    )
    return {thread_id: count for thread_id, count in rows}


def _clean_message(message: str) -> str:
    if not message.strip():
        raise Invalid(_l("Write a message."))
    if len(message) > MAX_MESSAGE:
        raise Invalid(_l("A message may be at most 20,000 characters long."))
    return message


def _check_rate(db_session: Session, user: User, now: datetime) -> None:
    if user.is_staff:
        return
    recent = db_session.scalar(
        select(func.count(Post.id)).where(
            Post.author_id == user.id, Post.created_at > now - RATE_WINDOW
        )
    )
    if (recent or 0) >= RATE_POSTS:
        raise TooManyPosts(
            _l("You have posted 10 times in 10 minutes. Please wait a few minutes and post again.")
        )


@dataclass
class Upload:
    """A file to attach: its name as sent and its bytes."""

    name: str
    data: bytes


def _check_uploads(files: Iterable[Upload], max_bytes: int) -> list[tuple[Upload, str, str]]:
    checked = []
    for upload in files:
        if not upload.data and not upload.name:
            continue
        media_type, extension = uploads.check_file(upload.name, upload.data, max_bytes)
        checked.append((upload, media_type, extension))
    return checked


def _add_post(
    db_session: Session,
    user: User,
    thread: Thread,
    message: str,
    now: datetime,
    *,
    quote: Post | None = None,
    files: Iterable[Upload] = (),
    instance_path: str = "",
    max_bytes: int = 0,
) -> Post:
    checked = _check_uploads(files, max_bytes)
    post = Post(
        thread=thread,
        author_id=user.id,
        quote=quote,
        source=message,
        body_html=markdown_to_html(message),
        created_at=now,
        notify_at=now + EDIT_WINDOW,
    )
    for upload, media_type, extension in checked:
        post.attachments.append(
            PostAttachment(
                sha256=uploads.store(instance_path, upload.data),
                name=uploads.safe_name(upload.name, extension),
                content_type=media_type,
                size=len(upload.data),
            )
        )
    db_session.add(post)
    thread.post_count += 1
    thread.last_post_at = now
    db_session.flush()
    _mark_read(db_session, user, thread, now)
    return post


def start_thread(
    db_session: Session,
    user: User,
    forum: Forum,
    subject: str,
    message: str,
    *,
    files: Iterable[Upload] = (),
    instance_path: str = "",
    max_bytes: int = 0,
    now: datetime | None = None,
) -> Thread:
    """A new thread with its first post, by a reader of the forum."""
    now = now or utcnow()
    _require_reader(db_session, user, forum)
    subject = " ".join(subject.split())
    if not subject:
        raise Invalid(_l("Write a subject."))
    if len(subject) > MAX_SUBJECT:
        raise Invalid(_l("A subject may be at most 300 characters long."))
    message = _clean_message(message)
    _check_rate(db_session, user, now)
    thread = Thread(
        forum=forum,
        author_id=user.id,
        subject=subject,
        created_at=now,
        last_post_at=now,
        post_count=0,
    )
    db_session.add(thread)
    _add_post(
        db_session, user, thread, message, now,
        files=files, instance_path=instance_path, max_bytes=max_bytes,
    )  # fmt: skip
    return thread


def reply(
    db_session: Session,
    user: User,
    thread: Thread,
    message: str,
    *,
    quote_id: int | None = None,
    files: Iterable[Upload] = (),
    instance_path: str = "",
    max_bytes: int = 0,
    now: datetime | None = None,
) -> Post:
    """A reply to a thread the user reads, unless it is locked; `quote_id`: a
    post of the same thread the user sees."""
    now = now or utcnow()
    _require_reader(db_session, user, thread.forum)
    if thread.hidden and not can_moderate(db_session, user, thread.forum):
        raise NotFound(_l("There is no such thread."))
    if is_locked(thread, now):
        raise Forbidden(_l("This thread is locked: no one can reply to it."))
    message = _clean_message(message)
    quote = None
    if quote_id is not None:
        quote = db_session.get(Post, quote_id)
        if (
            quote is None
            or quote.thread_id != thread.id
            or not may_see_post(db_session, user, quote)
        ):
            raise Invalid(_l("The post you quote is not in this thread."))
    _check_rate(db_session, user, now)
    return _add_post(
        db_session, user, thread, message, now,
        quote=quote, files=files, instance_path=instance_path, max_bytes=max_bytes,
    )  # fmt: skip


def may_edit(user: Any, post: Post, now: datetime | None = None) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and post.author_id == user.id
        and (now or utcnow()) - post.created_at <= EDIT_WINDOW
    )


def edit_post(
    db_session: Session, user: User, post: Post, message: str, now: datetime | None = None
) -> Post:
    """The author changes their post within 30 minutes of writing it."""
    now = now or utcnow()
    if post.author_id != user.id:
        raise Forbidden(_l("You can only edit your own posts."))
    if not may_edit(user, post, now):
        raise Forbidden(_l("A post can be edited only within 30 minutes of posting it."))
    if is_locked(post.thread, now):
        raise Forbidden(_l("This thread is locked: no one can reply to it."))
    post.source = _clean_message(message)
    post.body_html = markdown_to_html(post.source)
    post.edited_at = now
    return post


@dataclass
class ThreadPage:
    posts: list[Post]
    page: int
    pages: int
    locked: bool
    moderator: bool
    # Q&A: the learner sees only the question and their own posts until they reply.
    waiting_for_answer: bool


def thread_page(
    db_session: Session, user: User, thread: Thread, page: int = 1, now: datetime | None = None
) -> ThreadPage:
    """A page of the thread's posts, oldest first, with their quotes and attachments."""
    now = now or utcnow()
    moderator = can_moderate(db_session, user, thread.forum)
    shown = Post.thread_id == thread.id
    if not moderator:
        shown = and_(shown, Post.hidden.is_(False))
    sees_all = _sees_all_posts(db_session, user, thread)
    if not sees_all:
        first = _first_post_id(db_session, thread)
        shown = and_(shown, or_(Post.author_id == user.id, Post.id == first))
    total = db_session.scalar(select(func.count(Post.id)).where(shown)) or 0
    pages = _pages(total)
    page = min(max(page, 1), pages)
    posts = list(
        db_session.scalars(
            select(Post)
            .where(shown)
            .options(
                selectinload(Post.author),
                selectinload(Post.attachments),
                selectinload(Post.quote).selectinload(Post.author),
            )
            .order_by(Post.created_at, Post.id)
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return ThreadPage(posts, page, pages, is_locked(thread, now), moderator, not sees_all)


def _mark_read(db_session: Session, user: User, thread: Thread, now: datetime) -> None:
    read = db_session.get(ThreadRead, (user.id, thread.id))
    if read is None:
        db_session.add(ThreadRead(user_id=user.id, thread_id=thread.id, read_at=now))
    elif read.read_at < now:
        read.read_at = now
    db_session.flush()


def mark_read(db_session: Session, user: User, thread: Thread, now: datetime | None = None) -> None:
    """Opening a thread marks its posts read."""
    _mark_read(db_session, user, thread, now or utcnow())


def readable_post(db_session: Session, user: Any, post_id: int) -> Post:
    post = db_session.get(Post, post_id)
    if post is None:
        raise NotFound(_l("There is no such post."))
    _require_reader(db_session, user, post.thread.forum)
    if not may_see_post(db_session, user, post):
        raise NotFound(_l("There is no such post."))
    return post


def readable_attachment(db_session: Session, user: Any, attachment_id: int) -> PostAttachment:
    """An attachment, for those who read its post."""
    attachment = db_session.get(PostAttachment, attachment_id)
    if attachment is None:
        raise NotFound(_l("There is no such file."))
    readable_post(db_session, user, attachment.post_id)
    return attachment


# ------------------------------------------------------------------ moderation


THREAD_ACTS = {
    "pin": ("pinned", True),
    "unpin": ("pinned", False),
    "lock": ("locked", True),
    "unlock": ("locked", False),
    "hide": ("hidden", True),
    "unhide": ("hidden", False),
}


def _audit_thread(
    db_session: Session, actor: User, thread: Thread, act: str, address: str | None
) -> None:
    # Each action written out, so that the audit log's words are checked for each.
    if act == "pin":
        action = "thread.pin"
    elif act == "unpin":
        action = "thread.unpin"
    elif act == "lock":
        action = "thread.lock"
    elif act == "unlock":
        action = "thread.unlock"
    elif act == "hide":
        action = "thread.hide"
    else:
        action = "thread.unhide"
    audit(
        db_session, actor, action, "forum_thread", thread.id, address,
        {"forum": thread.forum_id}, label=thread.subject,
    )  # fmt: skip


def moderate_thread(
    db_session: Session, actor: User, thread: Thread, act: str, address: str | None = None
) -> None:
    """Pin, unpin, lock, unlock, hide or unhide a thread (its forum's moderators)."""
    _require_moderator(db_session, actor, thread.forum)
    if act not in THREAD_ACTS:
        raise Invalid(_l("Choose an action from the list."))
    column, value = THREAD_ACTS[act]
    setattr(thread, column, value)
    if act == "unlock" and is_locked(thread):
        # Idle past the forum's limit: unlocking opens it for as long again.
        thread.last_post_at = utcnow()
    _audit_thread(db_session, actor, thread, act, address)


def move_thread(
    db_session: Session, actor: User, thread: Thread, forum: Forum, address: str | None = None
) -> None:
    """Move a thread to another forum; the moderator moderates both."""
    _require_moderator(db_session, actor, thread.forum)
    _require_moderator(db_session, actor, forum)
    if forum.id == thread.forum_id:
        raise Invalid(_l("The thread is already in that forum."))
    old = thread.forum_id
    thread.forum = forum
    audit(
        db_session, actor, "thread.move", "forum_thread", thread.id, address,
        {"from_forum": old, "forum": forum.id}, label=thread.subject,
    )  # fmt: skip


def moderate_post(
    db_session: Session, actor: User, post: Post, hide: bool, address: str | None = None
) -> None:
    """Hide or unhide a post (its forum's moderators)."""
    _require_moderator(db_session, actor, post.thread.forum)
    post.hidden = hide
    audit(
        db_session, actor, "post.hide" if hide else "post.unhide", "forum_post", post.id,
        address, {"thread": post.thread_id}, label=post.thread.subject,
    )  # fmt: skip


def report_post(
    db_session: Session, user: User, post: Post, reason: str = "", address: str | None = None
) -> bool:
    """A reader reports a post to the moderators; False when they had already
    reported it (one report a reader and post)."""
    readable_post(db_session, user, post.id)
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise Invalid(_l("A reason may be at most 1,000 characters long."))
    existing = db_session.scalar(
        select(PostReport.id).where(
            PostReport.post_id == post.id, PostReport.reporter_id == user.id
        )
    )
    if existing is not None:
        return False
    db_session.add(PostReport(post_id=post.id, reporter_id=user.id, reason=reason))
    db_session.flush()
    audit(
        db_session, user, "post.report", "forum_post", post.id, address,
        {"thread": post.thread_id}, label=post.thread.subject,
    )  # fmt: skip
    return True


def open_reports(db_session: Session, user: User) -> list[PostReport]:
    """The open reports of posts in forums `user` moderates, oldest first (the
    first 500). Only the forums with an open report are asked whether `user`
    moderates them; the reports are then read in one query over those."""
    reported = (
        select(Thread.forum_id)
        .join(Post, Post.thread_id == Thread.id)
        .join(PostReport, PostReport.post_id == Post.id)
        .where(PostReport.resolved_at.is_(None))
    )
    candidates = db_session.scalars(
        select(Forum).where(Forum.id.in_(reported)).options(selectinload(Forum.course))
    )
    moderated = [forum.id for forum in candidates if can_moderate(db_session, user, forum)]
    if not moderated:
        return []
    return list(
        db_session.scalars(
            select(PostReport)
            .join(Post, PostReport.post_id == Post.id)
            .join(Thread, Post.thread_id == Thread.id)
            .where(PostReport.resolved_at.is_(None), Thread.forum_id.in_(moderated))
            .options(
                selectinload(PostReport.post).selectinload(Post.thread).selectinload(Thread.forum),
                selectinload(PostReport.post).selectinload(Post.author),
            )
            .order_by(PostReport.created_at, PostReport.id)
            .limit(500)
        )
    )


def resolve_report(
    db_session: Session, actor: User, report: PostReport, outcome: str, address: str | None = None
) -> None:
    """Keep the post or hide it; every open report of that post is resolved with it."""
    post = report.post
    _require_moderator(db_session, actor, post.thread.forum)
    if outcome not in ("kept", "hidden"):
        raise Invalid(_l("Choose to keep or to hide the post."))
    if outcome == "hidden" and not post.hidden:
        moderate_post(db_session, actor, post, True, address)
    db_session.execute(
        update(PostReport)
        .where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    audit(
        db_session, actor, "post.report_resolve", "forum_post", post.id, address,
        {"outcome": outcome}, label=post.thread.subject,
    )  # fmt: skip


# --------------------------------------------------------------- subscriptions


def subscription_choices(forum: Forum) -> list[str]:
    """The deliveries a reader may choose in this forum (none when it has no subscriptions)."""
    policy = SubscriptionPolicy(forum.subscription)
    if policy == SubscriptionPolicy.OFF:
        return []
    if policy == SubscriptionPolicy.FORCED:
        return [Delivery.EACH, Delivery.DIGEST]
    return [Delivery.EACH, Delivery.DIGEST, Delivery.OFF]


def _default_delivery(forum: Forum) -> str:
    policy = SubscriptionPolicy(forum.subscription)
    if policy in (SubscriptionPolicy.AUTOMATIC, SubscriptionPolicy.FORCED):
        return Delivery.EACH
    return Delivery.OFF


def subscription_of(
    db_session: Session, user: User, forum: Forum, thread: Thread | None = None
) -> str:
    """The user's delivery for the forum (or the thread: its own choice, else the forum's)."""
    choices = {
        (s.forum_id, s.thread_id): s.delivery
        for s in db_session.scalars(
            select(Subscription).where(
                Subscription.user_id == user.id,
                or_(
                    Subscription.forum_id == forum.id,
                    Subscription.thread_id == (thread.id if thread else -1),
                ),
            )
        )
    }
    delivery = choices.get((forum.id, None), _default_delivery(forum))
    if thread is not None:
        delivery = choices.get((None, thread.id), delivery)
    return _forced(forum, delivery)


def _forced(forum: Forum, delivery: str) -> str:
    if SubscriptionPolicy(forum.subscription) == SubscriptionPolicy.OFF:
        return Delivery.OFF
    if SubscriptionPolicy(forum.subscription) == SubscriptionPolicy.FORCED and (
        delivery == Delivery.OFF
    ):
        return Delivery.EACH
    return delivery


def set_subscription(
    db_session: Session, user: User, delivery: str, forum: Forum, thread: Thread | None = None
) -> None:
    """The user's choice for a forum, or for one of its threads."""
    _require_reader(db_session, user, forum)
    if delivery not in subscription_choices(forum):
        if SubscriptionPolicy(forum.subscription) == SubscriptionPolicy.FORCED:
            raise Invalid(_l("Everyone reading this forum is subscribed: it cannot be turned off."))
        raise Invalid(_l("This forum has no subscriptions."))
    where = Subscription.thread_id == thread.id if thread else Subscription.forum_id == forum.id
    row = db_session.scalar(select(Subscription).where(Subscription.user_id == user.id, where))
    if row is None:
        row = Subscription(
            user_id=user.id,
            forum_id=None if thread else forum.id,
            thread_id=thread.id if thread else None,
        )
        db_session.add(row)
    row.delivery = delivery
    db_session.flush()


def subscribers(db_session: Session, post: Post) -> list[tuple[User, str]]:
    """Who should be told of `post`, and how (each post or the daily digest):
    never its author, only people who may read it, by the forum's policy and
    their own choices (a thread's choice before its forum's)."""
    thread = post.thread
    forum = thread.forum
    policy = SubscriptionPolicy(forum.subscription)
    if policy == SubscriptionPolicy.OFF or post.hidden or thread.hidden:
        return []
    chosen: dict[int, dict[str, str]] = {}
    for row in db_session.scalars(
        select(Subscription).where(
            or_(Subscription.forum_id == forum.id, Subscription.thread_id == thread.id)
        )
    ):
        chosen.setdefault(row.user_id, {})["thread" if row.thread_id else "forum"] = row.delivery
    candidates = set(chosen)
    if policy != SubscriptionPolicy.OPTIONAL:
        if forum.course is None:
            candidates |= set(db_session.scalars(select(User.id).where(User.active.is_(True))))
        else:
            candidates |= set(course_roles().learner_ids(db_session, forum.course))
            candidates |= {t.id for t in forum.course.trainers}
    candidates.discard(post.author_id or -1)
    if not candidates:
        return []
    people = db_session.scalars(
        select(User)
        .where(User.id.in_(candidates), User.active.is_(True), User.erased_at.is_(None))
        .order_by(User.id)
    )
    # may_see_post's rules, with what they read fetched once for everyone.
    learners = set(course_roles().learner_ids(db_session, forum.course)) if forum.course else None
    qa = ForumKind(forum.kind) == ForumKind.QA
    posters = set(db_session.scalars(select(Post.author_id).where(Post.thread_id == thread.id)))
    first = _first_post_id(db_session, thread)
    answer = []
    for person in people:
        own = chosen.get(person.id, {})
        delivery = _forced(forum, own.get("thread", own.get("forum", _default_delivery(forum))))
        if delivery == Delivery.OFF:
            continue
        if not can_moderate(db_session, person, forum):
            if learners is not None and person.id not in learners:
                continue  # not (or no longer) in the course
            if qa and person.id not in posters and post.id != first:
                continue  # has not answered yet
        answer.append((person, delivery))
    return answer
