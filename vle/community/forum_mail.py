"""Forum posts by mail: once a post's edit window has passed (`Post.notify_at`),
the worker tells its subscribers — a mail each for those who chose it, a line
in the daily digest (by forum and thread) for the others — through vle/mail's
notifications (the "forum_post" kind: its opt-outs, its digest, its one-click
unsubscribe, here narrowed to the forum's or the thread's subscription)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vle import db
from vle.accounts.models import User
from vle.community import forums
from vle.community.models import Delivery, Forum, Post, Subscription, SubscriptionPolicy, Thread
from vle.db import utcnow
from vle.errors import DomainError
from vle.mail import services as mail
from vle.mail.queue import crontab, periodic_task

KIND = "forum_post"
BATCH = 50  # posts per run (each its own transaction)

mail.KIND_LABELS[KIND] = _l("new posts in the forums you follow")


def _post_id(key: str) -> int | None:
    """The post a notice's key names: `forum-post:<post id>:<user id>` (notify_post)."""
    parts = key.split(":")
    if len(parts) == 3 and parts[0] == "forum-post" and parts[1].isdigit():
        return int(parts[1])
    return None


def due_posts(db_session: Session, now: datetime | None = None) -> list[int]:
    """The posts whose edit window has passed and whose subscribers were not told yet."""
    return list(
        db_session.scalars(
            select(Post.id)
            .where(Post.notified.is_(False), Post.notify_at <= (now or utcnow()))
            .order_by(Post.notify_at, Post.id)
            .limit(BATCH)
        )
    )


def notify_post(db_session: Session, post_id: int) -> int:
    """Tell `post_id`'s subscribers of it, once (the post is claimed by one
    UPDATE: two workers never both tell). Its text is the final one: the
    edit window is over. A hidden post is marked told and tells no one. How
    many people were told."""
    claimed = db_session.execute(
        update(Post)
        .where(Post.id == post_id, Post.notified.is_(False))
        .values(notified=True)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    post = db_session.get_one(Post, post_id)
    people = forums.subscribers(db_session, post)
    if not people:
        return 0
    thread, forum = post.thread, post.thread.forum
    thread_url = mail.external_url("community.thread", thread_id=thread.id)
    context = {
        "forum_title": forum.title,
        "thread_subject": thread.subject,
        "author_name": post.author.name if post.author else "",
        "text": post.source,
        "body_html": post.body_html,
        "thread_url": f"{thread_url}#post-{post.id}",
        "subscription_url": thread_url,
    }
    modes = [
        (person, mail.MAIL_DIGEST if delivery == Delivery.DIGEST else mail.MAIL_EACH)
        for person, delivery in people
    ]
    return mail.notify_people(
        db_session,
        modes,
        kind=KIND,
        context=context,
        key=f"forum-post:{post.id}",
        url=context["thread_url"],
    )


@periodic_task(crontab(minute="*"))
def notify_forum_posts() -> int:
    """Each minute: the posts whose 30 minutes have passed, to their subscribers."""
    with db.transaction() as db_session:
        due = due_posts(db_session)
    told = 0
    for post_id in due:
        with db.transaction() as db_session:
            told += notify_post(db_session, post_id)
    return told


# -------------------------------------------------------------- the digest


def _digest_groups(db_session: Session, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each forum post notification's (forum, thread) in the digest."""
    by_post: dict[int, list[str]] = {}
    for key in keys:
        post_id = _post_id(key)
        if post_id is not None:
            by_post.setdefault(post_id, []).append(key)
    ids = sorted(by_post)
    groups: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        rows = db_session.execute(
            select(Post.id, Forum.title, Thread.subject)
            .join(Thread, Post.thread_id == Thread.id)
            .join(Forum, Thread.forum_id == Forum.id)
            .where(Post.id.in_(ids[start : start + 500]))
        )
        for post_id, forum_title, subject in rows:
            for key in by_post[post_id]:
                groups[key] = (forum_title, subject)
    return groups


mail.DIGEST_GROUPS[KIND] = _digest_groups


# ------------------------------------------------------ one-click unsubscribe


def _scope_of_key(key: str) -> str | None:
    post_id = _post_id(key)
    return None if post_id is None else f"post:{post_id}"


def _target(db_session: Session, address: str, scope: str) -> tuple[User, Post, bool] | None:
    """The person, the post, and whether the thread's subscription (not the
    forum's) brought it to them; None when either is gone."""
    kind, _colon, raw = scope.partition(":")
    if kind != "post" or not raw.isdigit():
        return None
    post = db_session.get(Post, int(raw))
    user = db_session.scalar(select(User).where(User.email == address.lower()))
    if post is None or user is None:
        return None
    by_thread = db_session.scalar(
        select(Subscription.id).where(
            Subscription.user_id == user.id,
            Subscription.thread_id == post.thread_id,
            Subscription.delivery != Delivery.OFF,
        )
    )
    return user, post, by_thread is not None


def _forced(post: Post) -> bool:
    return post.thread.forum.subscription == SubscriptionPolicy.FORCED


def _describe(db_session: Session, address: str, scope: str) -> Any:
    target = _target(db_session, address, scope)
    if target is None:
        return None
    _user, post, by_thread = target
    if _forced(post):
        # Everyone in that forum is subscribed: only the mails can stop.
        return mail.KIND_LABELS[KIND]
    if by_thread:
        return _l("new posts in the thread “%(subject)s”", subject=post.thread.subject)
    return _l("new posts in the forum “%(title)s”", title=post.thread.forum.title)


def _stop(db_session: Session, address: str, scope: str) -> None:
    """Turn off the subscription that brought the post (the thread's, else the
    forum's); in a forum that subscribes everyone, the forum post mails."""
    target = _target(db_session, address, scope)
    if target is None:
        return
    user, post, by_thread = target
    thread = post.thread
    if _forced(post):
        mail.opt_out(db_session, address, KIND)
        return
    try:
        forums.set_subscription(
            db_session, user, Delivery.OFF, thread.forum, thread if by_thread else None
        )
    except DomainError:
        # No longer a reader, or the forum's subscriptions are off: no more mail anyway.
        return


mail.SCOPES[KIND] = mail.Scope(of_key=_scope_of_key, describe=_describe, stop=_stop)
