"""Every /network/ route, read from the app's URL map, refuses those who may
not use it: a new route without a permission check fails here, whoever adds it.

- A visitor who is not signed in is sent to sign in (or refused), for every
  route and method.
- A learner of another organisation, enrolled in nothing, is refused (403 or
  404) everything about a course forum they are not in (the forum, its
  threads, posts, attachments and reports) and every page for staff
  (moderation, editing others' records, monitoring); every other page of the
  network is theirs to read (the directory, events, the picture, search).
- Nobody gets a 5xx, whatever they ask.

A route with a parameter this test cannot fill fails loudly: teach `_value`
the new name; a new route must be placed in STAFF or MEMBERS below."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.community.test_forums import PNG
from tests.conftest import login
from tests.url_map import ask, methods, rules_under, unknown, url_of
from vle import uploads
from vle.community.models import (
    Agreement,
    Announcement,
    Event,
    Forum,
    Post,
    PostAttachment,
    PostReport,
    Thread,
)
from vle.db import utcnow
from vle.learning import services as learning
from vle.monitoring.models import IndicatorSnapshot

DENIED = {403, 404}
# Objects of the course forum: only its course's learners and staff reach them.
COURSE_FORUM = {"forum_id", "thread_id", "post_id", "attachment_id", "report_id", "slug"}
# Pages for staff only, by endpoint (after "community.").
STAFF = {
    "delete_agreement", "edit_agreement", "announcement_delete", "announcement_edit",
    "delete_event", "edit_event", "forum_new", "reports", "monitoring", "monitoring_download",
    "indicator_panel", "indicator_evidence_csv", "indicator_freeze", "indicator_joint_training",
    "indicator_snapshot", "indicator_snapshot_csv", "edit_organisation", "post_moderate",
    "report_resolve", "thread_moderate", "thread_move", "new_agreement", "new_event",
    "announcement_new",
}  # fmt: skip
# Pages every signed-in member may read (GET answers below 400).
MEMBERS = {
    "directory", "agreements", "agreement", "announcements", "events",
    "event", "forum_index", "organisation", "organisation_logo", "network_picture",
    "network_pairs_csv", "search",
}  # fmt: skip


@pytest.fixture
def world(app, session, make_org, make_user, make_course):
    school = make_org(code="school", name="School")
    school.country = "LT"
    school.logo = uploads.store(app.instance_path, PNG)  # its logo is for every member
    elsewhere = make_org(code="elsewhere", name="Elsewhere")
    elsewhere.country = "PL"
    trainer = make_user("trainer", org=school, email="owner@example.org")
    course = make_course(trainers=[trainer])
    learner = make_user(org=school, email="learner@example.org")
    learning.enrol(session, learner, course)
    forum = Forum(course_id=course.id, title="Course forum")
    session.add(forum)
    session.flush()
    thread = Thread(forum_id=forum.id, author_id=learner.id, subject="A question", post_count=1)
    session.add(thread)
    session.flush()
    post = Post(thread_id=thread.id, author_id=learner.id, source="Hello", body_html="<p>Hello</p>")
    session.add(post)
    session.flush()
    attachment = PostAttachment(
        post_id=post.id, sha256="0" * 64, name="notes.pdf", content_type="application/pdf", size=9
    )
    report = PostReport(post_id=post.id, reporter_id=trainer.id, reason="Check")
    today = date.today()
    event = Event(title="Meeting", starts_on=today, organisers=[school, elsewhere])
    agreement = Agreement(title="Cooperation", signed_on=today, parties=[school, elsewhere])
    announcement = Announcement(
        author_id=trainer.id, course_id=course.id, title="Welcome", source="Hi",
        body_html="<p>Hi</p>", starts_at=utcnow() - timedelta(days=1),
    )  # fmt: skip
    snapshot = IndicatorSnapshot(reporting_date=today - timedelta(days=1))
    session.add_all([attachment, report, event, agreement, announcement, snapshot])
    session.commit()
    return {
        "course": course,
        "forum": forum,
        "thread": thread,
        "post": post,
        "attachment": attachment,
        "report": report,
        "event": event,
        "agreement": agreement,
        "announcement": announcement,
        "snapshot": snapshot,
        "org": school,
        "outsider": make_user(org=elsewhere, email="outsider@example.org"),
    }


def _value(rule: Rule, name: str, world: dict[str, Any]) -> Any:
    known = {
        "slug": world["course"].slug,
        "forum_id": world["forum"].id,
        "thread_id": world["thread"].id,
        "post_id": world["post"].id,
        "attachment_id": world["attachment"].id,
        "report_id": world["report"].id,
        "event_id": world["event"].id,
        "agreement_id": world["agreement"].id,
        "announcement_id": world["announcement"].id,
        "snapshot_id": world["snapshot"].id,
        "code": world["org"].code,
        "fmt": "csv",
    }
    if name == "code" and "indicator" in rule.endpoint:
        return "RCO81"
    if name in known:
        return known[name]
    raise unknown(rule, name)


def test_every_network_route_refuses_those_who_may_not_use_it(app, world):
    anonymous = app.test_client()
    outsider = app.test_client()
    login(outsider, "outsider@example.org")
    rules = rules_under(app, "/network", at_least=30)
    gone = (STAFF | MEMBERS) - {rule.endpoint.removeprefix("community.") for rule in rules}
    assert not gone, f"no longer a /network/ route: {sorted(gone)}"
    for rule in rules:
        endpoint = rule.endpoint.removeprefix("community.")
        assert endpoint in STAFF | MEMBERS or rule.arguments & COURSE_FORUM, (
            f"{rule.rule}: say in this test who may use it (STAFF or MEMBERS)"
        )
        url = url_of(app, rule, partial(_value, world=world))
        for method in methods(rule):
            answer = ask(anonymous, method, url)
            assert answer.status_code in {302, 401, *DENIED}, (method, url, answer.status_code)
            if answer.status_code == 302:
                assert "/login" in answer.headers["Location"], (method, url)
            answer = ask(outsider, method, url)
            assert answer.status_code < 500, (method, url, answer.status_code)
            if endpoint in STAFF or (endpoint not in MEMBERS and rule.arguments & COURSE_FORUM):
                assert answer.status_code in DENIED, (method, url, "outsider", answer.status_code)
            elif method == "GET":
                assert answer.status_code < 400, (url, "outsider", answer.status_code)
