"""Forum posts by mail (vle/community/forum_mail.py): after the 30 minutes, a
mail each or a line in the daily digest, never to the author, once; the
one-click unsubscribe turns off the subscription that brought the mail."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from vle.community import forum_mail, forums
from vle.community.models import Delivery, Post, Subscription, Thread
from vle.db import utcnow
from vle.learning import services as learning
from vle.mail import services as mail
from vle.mail.models import MailOptOut, Notification, OutboxMail


@pytest.fixture
def world(app: Flask, session: Any, make_user: Any, make_course: Any) -> dict[str, Any]:
    trainer = make_user("trainer", name="Tess Trainer")
    course = make_course(trainers=[trainer])
    ann, ben, cy = (make_user(name=name) for name in ("Ann Learner", "Ben Learner", "Cy Learner"))
    for person in (ann, ben, cy):
        learning.enrol(session, person, course)
    session.commit()
    forum = forums.course_forum(session, ann, course)
    session.commit()
    return {"course": course, "forum": forum, "trainer": trainer, "ann": ann, "ben": ben,
            "cy": cy, "session": session, "app": app}  # fmt: skip


def _post(w: dict[str, Any], text: str = "Where is **lesson 2**?") -> Post:
    s = w["session"]
    thread = forums.start_thread(s, w["ann"], w["forum"], "Lesson two", text)
    s.commit()
    return s.scalars(select(Post).where(Post.thread_id == thread.id)).one()


def _run(w: dict[str, Any], minutes: int = 31) -> int:
    s = w["session"]
    told = 0
    with w["app"].app_context():
        for post_id in forum_mail.due_posts(s, utcnow() + timedelta(minutes=minutes)):
            told += forum_mail.notify_post(s, post_id)
        s.commit()
    return told


def _outbox(s: Any) -> dict[str, OutboxMail]:
    s.rollback()
    return {row.to_address: row for row in s.scalars(select(OutboxMail))}


def test_a_post_is_mailed_after_thirty_minutes_to_subscribers_only_never_its_author(world):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"])
    forums.set_subscription(s, world["ann"], Delivery.EACH, world["forum"])
    s.commit()
    post = _post(world)
    assert _run(world, minutes=10) == 0  # the author may still edit it
    assert _outbox(s) == {}
    forums.edit_post(s, world["ann"], post, "Where is **lesson 3**?")
    s.commit()
    assert _run(world) == 1
    mails = _outbox(s)
    assert list(mails) == [world["ben"].email]  # not Ann (the author), not Cy (not subscribed)
    sent = mails[world["ben"].email]
    assert sent.key == f"forum-post:{post.id}:{world['ben'].id}"
    assert "Ann Learner" in sent.subject and "Lesson two" in sent.subject
    assert "lesson 3" in sent.text_body and "lesson 2" not in sent.text_body  # the final text
    assert "<strong>lesson 3</strong>" in sent.html_body
    assert f"/network/threads/{post.thread_id}#post-{post.id}" in sent.text_body
    assert sent.notification
    # Once: the post is told, and a second run finds nothing.
    assert _run(world) == 0
    assert len(_outbox(s)) == 1


def test_a_digest_subscriber_gets_one_mail_a_day_by_forum_and_thread(world):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.DIGEST, world["forum"])
    forums.set_subscription(s, world["cy"], Delivery.EACH, world["forum"])
    s.commit()
    first = _post(world)
    forums.reply(s, world["trainer"], first.thread, "Under Module 1.")
    s.commit()
    _run(world)
    mails = _outbox(s)
    assert set(mails) == {world["cy"].email}  # Ben waits for the digest
    pending = s.scalars(select(Notification).where(Notification.digest_pending.is_(True))).all()
    assert {row.user_id for row in pending} == {world["ben"].id}
    assert len(pending) == 2
    with world["app"].app_context():
        assert mail.queue_digests(s) == 1
        s.commit()
    digest = _outbox(s)[world["ben"].email]
    assert digest.kind == "digest"
    assert "2 notifications" in digest.subject
    forum_line = digest.text_body.index(world["forum"].title)
    thread_line = digest.text_body.index("Lesson two", forum_line)
    assert digest.text_body.index("Ann Learner", thread_line)
    assert digest.text_body.index("Tess Trainer", thread_line)
    assert f"<h2>{world['forum'].title}</h2>" in digest.html_body
    assert "<h3>Lesson two</h3>" in digest.html_body
    with world["app"].app_context():
        assert mail.queue_digests(s) == 0  # told once


def test_a_hidden_post_or_a_forum_without_subscriptions_mails_no_one(world):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"])
    s.commit()
    post = _post(world)
    forums.moderate_post(s, world["trainer"], post, True)
    s.commit()
    _run(world)
    assert _outbox(s) == {}
    assert s.scalar(select(Post.notified).where(Post.id == post.id))
    assert forum_mail.due_posts(s, utcnow() + timedelta(hours=1)) == []


def test_an_address_that_stopped_forum_mails_gets_none(world):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"])
    mail.opt_out(s, world["ben"].email, forum_mail.KIND)
    s.commit()
    _post(world)
    _run(world)
    assert _outbox(s) == {}


def _link(text: str) -> str:
    match = re.search(r"https?://\S+/mail/unsubscribe/\S+", text)
    assert match, text
    return match.group(0)


def _sent_link(world: dict[str, Any], person: str) -> str:
    row = _outbox(world["session"])[world[person].email]
    return _link(row.text_body).removeprefix(world["app"].config["BASE_URL"])


def test_one_click_turns_off_the_forum_subscription_without_a_session(world):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"])
    s.commit()
    _post(world)
    _run(world)
    path = _sent_link(world, "ben")
    client = world["app"].test_client()
    page = client.get(path)
    assert page.status_code == 200
    assert f"new posts in the forum “{world['forum'].title}”" in page.text
    s.rollback()
    assert s.scalars(select(Subscription.delivery)).all() == ["each"]  # a GET changes nothing
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Done:" in response.text
    s.rollback()
    assert s.scalars(select(Subscription.delivery)).all() == ["off"]
    assert s.scalars(select(MailOptOut)).all() == []  # only that forum, not every mail
    # The next post reaches no one.
    forums.reply(s, world["ann"], s.scalars(select(Thread)).one(), "Anyone?")
    s.commit()
    _run(world)
    assert len(_outbox(s)) == 1


def test_a_thread_subscription_is_the_one_turned_off(world):
    s = world["session"]
    post = _post(world)
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"], post.thread)
    s.commit()
    _run(world)
    path = _sent_link(world, "ben")
    assert world["app"].test_client().post(path).status_code == 200
    s.rollback()
    rows = s.execute(select(Subscription.thread_id, Subscription.delivery)).all()
    assert rows == [(post.thread_id, "off")]


def test_a_tampered_or_expired_link_is_refused_and_changes_nothing(world, monkeypatch):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"])
    s.commit()
    _post(world)
    _run(world)
    path = _sent_link(world, "ben")
    client = world["app"].test_client()
    payload, _dot, rest = path.rsplit("/", 1)[1].partition(".")
    tampered = f"/mail/unsubscribe/{payload[:-2]}xx.{rest}"
    for response in (client.get(tampered), client.post(tampered)):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid." in response.text
    monkeypatch.setattr("vle.mail.services.UNSUBSCRIBE_MAX_AGE_S", -1)
    response = client.post(path)
    assert response.status_code == 400
    assert "This unsubscribe link has expired." in response.text
    s.rollback()
    assert s.scalars(select(Subscription.delivery)).all() == ["each"]


def test_a_link_to_a_deleted_post_says_so(world):
    s = world["session"]
    forums.set_subscription(s, world["ben"], Delivery.EACH, world["forum"])
    s.commit()
    post = _post(world)
    _run(world)
    path = _sent_link(world, "ben")
    s.delete(s.get(Thread, post.thread_id))
    s.commit()
    response = world["app"].test_client().post(path)
    assert response.status_code == 400
    assert "no longer exists" in response.text
