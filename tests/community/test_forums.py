"""The forums' rules (vle/community/forums.py), without HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from vle.audit import AuditEntry
from vle.community import forums
from vle.community.models import Forum, Post, PostReport, Thread
from vle.db import utcnow
from vle.errors import Forbidden, Invalid, NotFound
from vle.learning import services as learning

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def world(app: Flask, session: Any, make_user: Any, make_course: Any) -> dict[str, Any]:
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    ann = make_user(name="Ann Learner")
    ben = make_user(name="Ben Learner")
    outsider = make_user(name="Olga Outsider")
    other_course = make_course()
    learning.enrol(session, ann, course)
    learning.enrol(session, ben, course)
    learning.enrol(session, outsider, other_course)
    session.commit()
    forum = forums.course_forum(session, ann, course)
    session.commit()
    return {
        "trainer": trainer, "course": course, "ann": ann, "ben": ben,
        "outsider": outsider, "outsider_course": other_course, "forum": forum,
        "session": session, "app": app,
    }  # fmt: skip


def _thread(w: dict[str, Any], author: str = "ann", **kwargs: Any) -> Thread:
    thread = forums.start_thread(
        w["session"], w[author], w["forum"], "Hello", "First **post**", **kwargs
    )
    w["session"].commit()
    return thread


def test_a_course_forum_is_made_once_for_its_learners_and_staff(world):
    s = world["session"]
    again = forums.course_forum(s, world["trainer"], world["course"])
    assert again.id == world["forum"].id
    assert s.scalar(select(func.count(Forum.id))) == 1
    with pytest.raises(Forbidden):
        forums.course_forum(s, world["outsider"], world["course"])
    with pytest.raises(Forbidden):
        forums.readable_forum(s, world["outsider"], world["forum"].id)
    assert forums.can_moderate(s, world["trainer"], world["forum"])
    assert not forums.can_moderate(s, world["ann"], world["forum"])


def test_network_forums_are_made_by_network_administrators_and_open_to_all(world, make_user):
    s = world["session"]
    boss = make_user("admin", network=True)
    with pytest.raises(Forbidden):
        forums.create_forum(s, world["trainer"], title="Café")
    forum = forums.create_forum(s, boss, title="  Café  ", kind="qa", lock_after_days=7)
    s.commit()
    assert forum.title == "Café" and forum.course_id is None
    assert forums.can_read(s, world["outsider"], forum)
    with pytest.raises(Invalid):
        forums.create_forum(s, boss, title="")
    lists = forums.forums_for(s, world["ann"])
    assert [f.title for f in lists.network] == ["Café"]
    assert [f.id for f in lists.courses] == [world["forum"].id]
    assert forums.forums_for(s, world["outsider"]).courses == []
    assert s.scalar(select(AuditEntry.action).where(AuditEntry.target_type == "forum")) == (
        "forum.create"
    )


def test_posts_are_sanitised_once_and_quote_by_reference(world):
    s = world["session"]
    thread = _thread(world)
    first = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    assert first.body_html == "<p>First <strong>post</strong></p>"
    assert first.notify_at == first.created_at + timedelta(minutes=30)
    answer = forums.reply(
        s, world["ben"], thread, "<script>alert(1)</script>Agreed", quote_id=first.id
    )
    s.commit()
    assert "<script" not in answer.body_html and "Agreed" in answer.body_html
    assert answer.quote_id == first.id and answer.source.startswith("<script>")
    other = forums.start_thread(s, world["ben"], world["forum"], "Other", "Text")
    s.flush()
    with pytest.raises(Invalid):
        forums.reply(s, world["ann"], other, "Quote across", quote_id=first.id)


@pytest.mark.parametrize("message", ["", "   \n ", "x" * 20_001])
def test_an_empty_or_oversized_post_is_refused(world, message):
    s = world["session"]
    with pytest.raises(Invalid):
        forums.start_thread(s, world["ann"], world["forum"], "Subject", message)
    s.rollback()
    assert s.scalar(select(func.count(Thread.id))) == 0


def test_a_subject_is_needed(world):
    with pytest.raises(Invalid):
        forums.start_thread(world["session"], world["ann"], world["forum"], "  ", "Text")


def test_only_the_author_edits_and_only_within_thirty_minutes(world):
    s = world["session"]
    thread = _thread(world)
    post = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    forums.edit_post(s, world["ann"], post, "Changed *text*")
    assert post.body_html == "<p>Changed <em>text</em></p>" and post.edited_at is not None
    with pytest.raises(Forbidden):
        forums.edit_post(s, world["ben"], post, "Mine now")
    with pytest.raises(Forbidden):
        forums.edit_post(s, world["ann"], post, "Late", now=post.created_at + timedelta(minutes=31))
    assert post.source == "Changed *text*"


def test_a_locked_thread_takes_no_reply_and_idle_threads_lock_themselves(world):
    s = world["session"]
    thread = _thread(world)
    forums.moderate_thread(s, world["trainer"], thread, "lock")
    s.commit()
    with pytest.raises(Forbidden):
        forums.reply(s, world["ben"], thread, "Too late")
    forums.moderate_thread(s, world["trainer"], thread, "unlock")
    world["forum"].lock_after_days = 3
    s.commit()
    later = thread.last_post_at + timedelta(days=4)
    assert forums.is_locked(thread, later)
    with pytest.raises(Forbidden):
        forums.reply(s, world["ben"], thread, "Idle", now=later)
    assert not forums.is_locked(thread, thread.last_post_at + timedelta(days=2))


def test_a_learner_of_another_course_cannot_post(world):
    s = world["session"]
    thread = _thread(world)
    with pytest.raises(Forbidden):
        forums.start_thread(s, world["outsider"], world["forum"], "Hi", "Text")
    with pytest.raises(Forbidden):
        forums.reply(s, world["outsider"], thread, "Text")
    with pytest.raises(Forbidden):
        forums.readable_thread(s, world["outsider"], thread.id)


def test_in_a_qa_forum_a_learner_sees_the_answers_after_answering(world):
    s = world["session"]
    world["forum"].kind = "qa"
    s.commit()
    thread = _thread(world, "trainer")
    forums.reply(s, world["ann"], thread, "Ann's answer")
    s.commit()
    before = forums.thread_page(s, world["ben"], thread)
    assert [p.source for p in before.posts] == ["First **post**"]
    assert before.waiting_for_answer
    forums.reply(s, world["ben"], thread, "Ben's answer")
    s.commit()
    after = forums.thread_page(s, world["ben"], thread)
    assert [p.source for p in after.posts] == ["First **post**", "Ann's answer", "Ben's answer"]
    assert len(forums.thread_page(s, world["trainer"], thread).posts) == 3


def test_unread_counts_and_opening_a_thread_marks_it_read(world):
    s = world["session"]
    thread = _thread(world)
    now = utcnow()
    listing = forums.thread_listing(s, world["ben"], world["forum"])
    assert [(line.thread.id, line.unread) for line in listing.lines] == [(thread.id, 1)]
    assert forums.thread_listing(s, world["ann"], world["forum"]).lines[0].unread == 0
    forums.mark_read(s, world["ben"], thread, now)
    s.commit()
    assert forums.thread_listing(s, world["ben"], world["forum"]).lines[0].unread == 0
    forums.reply(s, world["ann"], thread, "More", now=now + timedelta(seconds=5))
    forums.reply(s, world["ann"], thread, "And more", now=now + timedelta(seconds=6))
    s.commit()
    assert forums.thread_listing(s, world["ben"], world["forum"]).lines[0].unread == 2


def test_threads_are_listed_pinned_first_then_latest_and_in_pages(world):
    s = world["session"]
    start = utcnow() - timedelta(hours=1)
    threads = [
        forums.start_thread(
            s, world["trainer"], world["forum"], f"T{n}", "x", now=start + timedelta(minutes=n)
        )
        for n in range(27)
    ]
    s.commit()
    forums.moderate_thread(s, world["trainer"], threads[0], "pin")
    s.commit()
    first = forums.thread_listing(s, world["ann"], world["forum"])
    assert [line.thread.subject for line in first.lines[:3]] == ["T0", "T26", "T25"]
    assert (len(first.lines), first.pages) == (25, 2)
    second = forums.thread_listing(s, world["ann"], world["forum"], page=2)
    assert [line.thread.subject for line in second.lines] == ["T2", "T1"]


def test_posting_is_limited_per_learner_but_not_for_staff(world):
    s = world["session"]
    thread = _thread(world, "trainer")
    for n in range(10):
        forums.reply(s, world["ann"], thread, f"Post {n}")
    s.commit()
    with pytest.raises(forums.TooManyPosts) as refused:
        forums.reply(s, world["ann"], thread, "One more")
    assert refused.value.status == 429
    s.rollback()
    for n in range(11):
        forums.reply(s, world["trainer"], thread, f"Staff {n}")
    later = utcnow() + timedelta(minutes=11)
    forums.reply(s, world["ann"], thread, "Later", now=later)


def test_moderators_hide_pin_and_move_and_every_act_is_audited(world, make_user, make_course):
    s = world["session"]
    thread = _thread(world)
    post = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    with pytest.raises(Forbidden):
        forums.moderate_thread(s, world["ann"], thread, "hide")
    forums.moderate_thread(s, world["trainer"], thread, "hide")
    s.commit()
    with pytest.raises(NotFound):
        forums.readable_thread(s, world["ben"], thread.id)
    assert forums.thread_listing(s, world["ben"], world["forum"]).lines == []
    assert forums.readable_thread(s, world["trainer"], thread.id) is thread
    forums.moderate_thread(s, world["trainer"], thread, "unhide")
    forums.moderate_post(s, world["trainer"], post, True)
    s.commit()
    with pytest.raises(NotFound):
        forums.readable_post(s, world["ben"], post.id)
    assert forums.thread_page(s, world["ben"], thread).posts == []
    second = make_course(trainers=[world["trainer"]])
    target = forums.course_forum(s, world["trainer"], second)
    forums.move_thread(s, world["trainer"], thread, target)
    s.commit()
    assert thread.forum_id == target.id
    stranger = forums.course_forum(s, make_user("admin", network=True), make_course())
    with pytest.raises(Forbidden):
        forums.move_thread(s, world["trainer"], thread, stranger)
    actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["thread.hide", "thread.unhide", "post.hide", "thread.move"]


def test_reporting_twice_makes_one_report_and_resolving_hides(world):
    s = world["session"]
    thread = _thread(world)
    post = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    assert forums.report_post(s, world["ben"], post, "Rude")
    s.commit()
    assert not forums.report_post(s, world["ben"], post, "Still rude")
    s.commit()
    assert s.scalar(select(func.count(PostReport.id))) == 1
    assert forums.open_reports(s, world["ann"]) == []
    reports = forums.open_reports(s, world["trainer"])
    assert [r.reason for r in reports] == ["Rude"]
    forums.resolve_report(s, world["trainer"], reports[0], "hidden")
    s.commit()
    assert post.hidden and forums.open_reports(s, world["trainer"]) == []
    s.refresh(reports[0])
    assert reports[0].outcome == "hidden"
    with pytest.raises(Forbidden):
        forums.report_post(s, world["outsider"], post)


def test_a_moderator_sees_only_the_reports_of_the_forums_they_moderate(world, make_user):
    s = world["session"]
    boss = make_user("admin", network=True)
    moderated = _thread(world)
    other = forums.course_forum(s, world["outsider"], world["outsider_course"])
    network = forums.create_forum(s, boss, title="Café")
    s.commit()
    unmoderated = [
        forums.start_thread(s, world["outsider"], other, "Elsewhere", "Mine"),
        forums.start_thread(s, world["ann"], network, "Everyone", "Ours"),
    ]
    s.commit()
    learning.enrol(s, world["ben"], world["outsider_course"])
    reasons = [(moderated, "Rude"), (unmoderated[0], "Spam"), (unmoderated[1], "Off topic")]
    for thread, reason in reasons:
        post = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
        assert forums.report_post(s, world["ben"], post, reason)
        s.commit()
    assert [r.reason for r in forums.open_reports(s, world["trainer"])] == ["Rude"]
    assert [r.reason for r in forums.open_reports(s, boss)] == ["Rude", "Spam", "Off topic"]
    assert forums.open_reports(s, world["ben"]) == []


def test_attachments_follow_the_upload_rules(world):
    s = world["session"]
    path = world["app"].instance_path
    thread = _thread(
        world,
        files=[forums.Upload("dot.png", PNG)],
        instance_path=path,
        max_bytes=1024 * 1024,
    )
    post = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    [file] = post.attachments
    assert (file.name, file.content_type, file.size) == ("dot.png", "image/png", len(PNG))
    assert forums.readable_attachment(s, world["ben"], file.id) is file
    with pytest.raises(Forbidden):
        forums.readable_attachment(s, world["outsider"], file.id)
    with pytest.raises(Invalid):
        forums.reply(
            s, world["ben"], thread, "A page",
            files=[forums.Upload("page.html", b"<html><script>x</script></html>")],
            instance_path=path, max_bytes=1024 * 1024,
        )  # fmt: skip
    s.rollback()
    with pytest.raises(Invalid):
        forums.reply(
            s, world["ben"], thread, "Too big", files=[forums.Upload("dot.png", PNG)],
            instance_path=path, max_bytes=10,
        )  # fmt: skip


def _who(pairs: list[tuple[Any, str]]) -> dict[str, str]:
    return {user.name: delivery for user, delivery in pairs}


def test_subscribers_follow_the_forum_policy_and_their_choices(world):
    s = world["session"]
    forum = world["forum"]
    thread = _thread(world)
    post = s.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    assert forums.subscribers(s, post) == []  # optional: nobody chose yet
    forums.set_subscription(s, world["ben"], "digest", forum)
    s.commit()
    assert _who(forums.subscribers(s, post)) == {"Ben Learner": "digest"}
    forums.set_subscription(s, world["ben"], "off", forum, thread)
    s.commit()
    assert forums.subscribers(s, post) == []  # the thread's choice before the forum's
    forum.subscription = "automatic"
    s.commit()
    trainer = world["trainer"].name
    assert _who(forums.subscribers(s, post)) == {trainer: "each"}  # never the author
    forum.subscription = "forced"
    s.commit()
    assert _who(forums.subscribers(s, post)) == {"Ben Learner": "each", trainer: "each"}
    with pytest.raises(Invalid):
        forums.set_subscription(s, world["ben"], "off", forum)
    assert forums.subscription_of(s, world["ben"], forum, thread) == "each"
    forum.subscription = "off"
    s.commit()
    assert forums.subscribers(s, post) == []
    assert forums.subscription_choices(forum) == []
    with pytest.raises(Invalid):
        forums.set_subscription(s, world["ben"], "each", forum)


def test_subscribers_are_only_people_who_may_read_the_post(world):
    s = world["session"]
    forum = world["forum"]
    forum.subscription = "automatic"
    forum.kind = "qa"
    s.commit()
    thread = _thread(world, "trainer")
    answer = forums.reply(s, world["ann"], thread, "Ann's answer")
    s.commit()
    # Ben has not answered: he is not told of Ann's answer, only of the question.
    assert set(_who(forums.subscribers(s, answer))) == {world["trainer"].name}
    question = s.scalars(select(Post).where(Post.thread_id == thread.id).order_by(Post.id)).first()
    assert set(_who(forums.subscribers(s, question))) == {"Ann Learner", "Ben Learner"}
    forums.moderate_post(s, world["trainer"], answer, True)
    s.commit()
    assert forums.subscribers(s, answer) == []
