"""The forums' pages: what a reader sees, and who may open or do what."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.community.test_forums import PNG
from tests.conftest import csrf_token, login, post_form
from vle.audit import AuditEntry
from vle.community import forums
from vle.community.models import Forum, Post, PostReport, Subscription, Thread
from vle.learning import services as learning


@pytest.fixture
def world(app: Flask, session: Any, make_user: Any, make_course: Any) -> dict[str, Any]:
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer], title="Knitting")
    ann = make_user(name="Ann Learner")
    ben = make_user(name="Ben Learner")
    outsider = make_user(name="Olga Outsider")
    learning.enrol(session, ann, course)
    learning.enrol(session, ben, course)
    learning.enrol(session, outsider, make_course())
    session.commit()
    return {
        "trainer": trainer, "course": course, "ann": ann, "ben": ben,
        "outsider": outsider, "session": session, "app": app,
    }  # fmt: skip


def _switch(client: Any, email: str) -> None:
    post_form(client, "/logout")
    login(client, email)


def _count(session: Any, model: Any) -> int:
    session.commit()  # end the read transaction: see what the requests wrote
    return session.scalar(select(func.count(model.id)))


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _forum_of(client: Any, world: dict[str, Any]) -> int:
    response = client.get(f"/network/courses/{world['course'].slug}/forum")
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _start(client: Any, forum_id: int, subject: str = "Needles", message: str = "Which size?"):
    return post_form(
        client,
        f"/network/forums/{forum_id}/new",
        {"subject": subject, "message": message},
        page=f"/network/forums/{forum_id}/new",
    )


def test_a_learner_opens_the_course_forum_starts_a_thread_and_another_replies_quoting(
    client, world
):
    login(client, world["ann"].email)
    course_page = client.get(f"/courses/{world['course'].slug}").get_data(as_text=True)
    assert f'href="/network/courses/{world["course"].slug}/forum">Forum</a>' in course_page
    forum_id = _forum_of(client, world)
    page = client.get(f"/network/forums/{forum_id}")
    assert page.status_code == 200 and "New thread" in _text(page)
    response = _start(client, forum_id, message="Which size? <script>alert(1)</script>")
    assert response.status_code == 303
    thread_id = int(response.headers["Location"].rsplit("/", 1)[1])
    shown = client.get(f"/network/threads/{thread_id}").get_data(as_text=True)
    assert "Which size?" in shown and "<script>alert" not in shown
    assert 'aria-current="page">Forums</a>' in shown  # the network's navigation says where
    _switch(client, world["ben"].email)
    listing = _text(client.get(f"/network/forums/{forum_id}"))
    assert "Needles" in listing and "1 new post" in listing
    first = world["session"].scalar(select(Post.id).where(Post.thread_id == thread_id))
    quoting = client.get(f"/network/threads/{thread_id}/reply?quote={first}")
    assert "Ann Learner wrote on" in _text(quoting)
    response = post_form(
        client,
        f"/network/threads/{thread_id}/reply",
        {"message": "Size 4.", "quote": str(first)},
        page=f"/network/threads/{thread_id}",
    )
    assert response.status_code == 303
    thread = _text(client.get(f"/network/threads/{thread_id}"))
    assert "Ann Learner wrote on" in thread and "Size 4." in thread
    assert "No new posts" in _text(client.get(f"/network/forums/{forum_id}"))


def test_every_forum_page_refuses_anonymous_visitors(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    post_id = session.scalar(select(Post.id))
    for path in (
        "/network/forums/",
        "/network/forums/new",
        f"/network/courses/{world['course'].slug}/forum",
        f"/network/forums/{forum.id}",
        f"/network/forums/{forum.id}/new",
        f"/network/threads/{thread.id}",
        f"/network/threads/{thread.id}/reply",
        f"/network/posts/{post_id}/edit",
        f"/network/posts/{post_id}/report",
        "/network/forums/reports",
        "/network/attachments/1",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_a_learner_of_another_course_is_refused_everywhere(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(
        session, world["ann"], forum, "Hi", "Text",
        files=[forums.Upload("dot.png", PNG)],
        instance_path=world["app"].instance_path, max_bytes=1 << 20,
    )  # fmt: skip
    session.commit()
    post = session.scalars(select(Post)).one()
    login(client, world["outsider"].email)
    for path in (
        f"/network/courses/{world['course'].slug}/forum",
        f"/network/forums/{forum.id}",
        f"/network/forums/{forum.id}/new",
        f"/network/threads/{thread.id}",
        f"/network/threads/{thread.id}/reply",
        f"/network/posts/{post.id}/edit",
        f"/network/posts/{post.id}/report",
        f"/network/attachments/{post.attachments[0].id}",
    ):
        assert client.get(path).status_code == 403, path
    for path, data in (
        (f"/network/forums/{forum.id}/new", {"subject": "X", "message": "Y"}),
        (f"/network/threads/{thread.id}/reply", {"message": "Y"}),
        (f"/network/threads/{thread.id}/moderate", {"act": "lock"}),
        (f"/network/posts/{post.id}/moderate", {"act": "hide"}),
        (f"/network/posts/{post.id}/report", {"reason": ""}),
        (f"/network/forums/{forum.id}/subscription", {"delivery": "each"}),
        ("/network/forums/new", {"title": "Mine"}),
    ):
        assert post_form(client, path, data, page="/network/forums/").status_code == 403, path
    assert _count(session, Post) == 1
    assert _count(session, PostReport) == 0
    assert "Knitting" not in _text(client.get("/network/forums/"))


def test_form_errors_for_an_empty_or_oversized_post(client, world):
    login(client, world["ann"].email)
    forum_id = _forum_of(client, world)
    empty = _start(client, forum_id, message="   ")
    assert empty.status_code == 422 and "Write a message." in _text(empty)
    long = _start(client, forum_id, message="x" * 20_001)
    assert long.status_code == 422
    assert "A message may be at most 20,000 characters long." in _text(long)
    assert _count(world["session"], Thread) == 0


def test_a_locked_or_hidden_thread(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    login(client, world["trainer"].email)
    page = f"/network/threads/{thread.id}"
    assert "Moderation" in _text(client.get(page))
    response = post_form(client, f"{page}/moderate", {"act": "lock"}, page=page)
    assert response.status_code == 303
    _switch(client, world["ben"].email)
    shown = _text(client.get(page))
    assert "This thread is locked: no one can reply to it." in shown and "Your reply" not in shown
    refused = post_form(client, f"{page}/reply", {"message": "Hello?"}, page=page)
    assert refused.status_code == 403 and "locked" in _text(refused)
    assert _count(session, Post) == 1
    forums.moderate_thread(session, world["trainer"], thread, "hide")
    session.commit()
    assert client.get(page).status_code == 404
    assert "Hi" not in _text(client.get(f"/network/forums/{forum.id}"))
    session.commit()
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "thread.lock",
        "thread.hide",
    ]


def test_editing_another_post_or_after_the_window_is_refused(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    post = session.scalars(select(Post)).one()
    login(client, world["ben"].email)
    refused = client.get(f"/network/posts/{post.id}/edit")
    assert refused.status_code == 403 and "You can only edit your own posts." in _text(refused)
    _switch(client, world["ann"].email)
    path = f"/network/posts/{post.id}/edit"
    assert post_form(client, path, {"message": "Better"}, page=path).status_code == 303
    session.commit()  # end the read transaction: see what the request wrote
    session.refresh(post)
    assert post.body_html == "<p>Better</p>"
    post.created_at -= timedelta(minutes=31)
    session.commit()
    late = client.get(path)
    assert late.status_code == 403 and "within 30 minutes" in _text(late)


def test_reporting_twice_and_the_moderation_queue(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Rude words")
    session.commit()
    post = session.scalars(select(Post)).one()
    login(client, world["ben"].email)
    path = f"/network/posts/{post.id}/report"
    assert post_form(client, path, {"reason": "Rude"}, page=path).status_code == 303
    assert "moderators will look" in _text(client.get(f"/network/threads/{thread.id}"))
    post_form(client, path, {"reason": "Again"}, page=path)
    assert "already reported" in _text(client.get(f"/network/threads/{thread.id}"))
    assert _count(session, PostReport) == 1
    assert client.get("/network/forums/reports").status_code == 403  # a learner moderates nothing
    _switch(client, world["trainer"].email)
    queue = _text(client.get("/network/forums/reports"))
    assert "Rude words" in queue and "Reason: Rude" in queue
    session.commit()
    report = session.scalars(select(PostReport)).one()
    response = post_form(
        client, f"/network/reports/{report.id}/resolve", {"outcome": "hidden"},
        page="/network/forums/reports",
    )  # fmt: skip
    assert response.status_code == 303
    session.commit()  # end the read transaction: see what the request wrote
    session.refresh(post)
    assert post.hidden
    _switch(client, world["ben"].email)
    assert "Rude words" not in _text(client.get(f"/network/threads/{thread.id}"))


def test_posting_too_often_answers_429(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(session, world["trainer"], forum, "Hi", "Text")
    for n in range(10):
        forums.reply(session, world["ann"], thread, f"Post {n}")
    session.commit()
    login(client, world["ann"].email)
    page = f"/network/threads/{thread.id}"
    refused = post_form(client, f"{page}/reply", {"message": "More"}, page=page)
    assert refused.status_code == 429
    assert "Please wait a few minutes and post again." in _text(refused)


def test_subscription_forms_follow_the_forum_policy(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    login(client, world["ben"].email)
    page = f"/network/forums/{forum.id}"
    assert "Subscription to this forum" in _text(client.get(page))
    response = post_form(client, f"{page}/subscription", {"delivery": "digest"}, page=page)
    assert response.status_code == 303
    assert "Now: A daily digest." in _text(client.get(page))
    thread_page = f"/network/threads/{thread.id}"
    post_form(client, f"{thread_page}/subscription", {"delivery": "off"}, page=thread_page)
    session.commit()
    rows = session.execute(select(Subscription.forum_id, Subscription.delivery)).all()
    assert sorted(rows, key=str) == sorted([(forum.id, "digest"), (None, "off")], key=str)
    forum.subscription = "forced"
    session.commit()
    shown = client.get(page).get_data(as_text=True)
    assert 'value="off"' not in shown and 'value="each"' in shown
    refused = post_form(client, f"{page}/subscription", {"delivery": "off"}, page=page)
    assert refused.status_code == 422 and "cannot be turned off" in _text(refused)
    forum.subscription = "off"
    session.commit()
    assert "Subscription to this forum" not in _text(client.get(page))


def test_network_forums_by_network_administrators(client, world, make_user, session):
    boss = make_user("admin", network=True)
    login(client, boss.email)
    response = post_form(
        client,
        "/network/forums/new",
        {"title": "Café", "description": "Talk", "kind": "qa", "subscription": "automatic"},
        page="/network/forums/new",
    )
    assert response.status_code == 303
    session.commit()
    forum = session.scalars(select(Forum)).one()
    assert (forum.kind, forum.subscription, forum.course_id) == ("qa", "automatic", None)
    _switch(client, world["outsider"].email)
    index = _text(client.get("/network/forums/"))
    assert "Café" in index
    assert _start(client, forum.id).status_code == 303
    assert client.get("/network/forums/new").status_code == 403


def test_moving_a_thread_and_pinning(client, world, make_user, make_course, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    other = forums.course_forum(session, world["trainer"], make_course(trainers=[world["trainer"]]))
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    login(client, world["trainer"].email)
    page = f"/network/threads/{thread.id}"
    assert post_form(client, f"{page}/moderate", {"act": "pin"}, page=page).status_code == 303
    assert "Pinned" in _text(client.get(f"/network/forums/{forum.id}"))
    moved = post_form(client, f"{page}/move", {"forum": str(other.id)}, page=page)
    assert moved.status_code == 303
    session.commit()  # end the read transaction: see what the request wrote
    session.refresh(thread)
    assert thread.forum_id == other.id
    bad = post_form(client, f"{page}/moderate", {"act": "explode"}, page=page)
    assert bad.status_code == 422


def test_attachments_download_only_to_readers(client, world, session):
    login(client, world["ann"].email)
    forum_id = _forum_of(client, world)
    token_page = f"/network/forums/{forum_id}/new"
    token = csrf_token(client, token_page)
    response = client.post(
        token_page,
        data={
            "csrf_token": token,
            "subject": "Pattern",
            "message": "See the file",
            "attachments": [(io.BytesIO(PNG), "dot.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    session.commit()
    attachment = session.scalars(select(Post)).one().attachments[0]
    download = client.get(f"/network/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    download.close()
    refused = client.post(
        token_page,
        data={
            "csrf_token": token,
            "subject": "Page",
            "message": "Evil",
            "attachments": [(io.BytesIO(b"<html><script></script>"), "x.html")],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "not accepted" in _text(refused)


def test_in_a_qa_forum_a_learner_sees_answers_after_answering(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    forum.kind = "qa"
    thread = forums.start_thread(session, world["trainer"], forum, "Quiz", "Why wool?")
    forums.reply(session, world["ann"], thread, "Ann says warmth")
    session.commit()
    login(client, world["ben"].email)
    page = f"/network/threads/{thread.id}"
    before = _text(client.get(page))
    assert "Why wool?" in before and "Ann says warmth" not in before
    assert "post your own answer to see the others' answers" in before
    post_form(client, f"{page}/reply", {"message": "Ben says softness"}, page=page)
    after = _text(client.get(page))
    assert "Ann says warmth" in after and "Ben says softness" in after


def test_network_forums_are_moderated_by_administrators(client, world, make_user, session):
    boss = make_user("admin", network=True)
    forum = forums.create_forum(session, boss, title="Café")
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    page = f"/network/threads/{thread.id}"
    login(client, world["trainer"].email)
    assert "Moderation" not in _text(client.get(page))
    assert post_form(client, f"{page}/moderate", {"act": "pin"}, page=page).status_code == 403
    _switch(client, make_user("admin").email)
    assert "Moderation" in _text(client.get(page))
    assert post_form(client, f"{page}/moderate", {"act": "pin"}, page=page).status_code == 303
    session.commit()
    session.refresh(thread)
    assert thread.pinned


def test_odd_addresses_get_a_clear_answer_not_an_error(client, world, session):
    forum = forums.course_forum(session, world["ann"], world["course"])
    thread = forums.start_thread(session, world["ann"], forum, "Hi", "Text")
    session.commit()
    login(client, world["ben"].email)
    assert client.get(f"/network/forums/{forum.id}?page=abc").status_code == 200
    assert client.get(f"/network/forums/{forum.id}?page=99999").status_code == 200
    assert client.get(f"/network/threads/{thread.id}/reply?quote=abc").status_code == 400
    assert client.get(f"/network/threads/{thread.id}/reply?quote=999").status_code == 404
    assert client.get("/network/threads/999").status_code == 404
    assert client.get("/network/forums/999").status_code == 404
    page = f"/network/threads/{thread.id}"
    moved = post_form(client, f"{page}/move", {"forum": "nope"}, page=page)
    assert moved.status_code == 422
