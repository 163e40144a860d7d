"""Every /trainer/ route, read from the app's URL map, refuses those who may
not use it: a new route without a permission check fails here, whoever adds
it. For each route and method:

- a visitor who is not signed in is sent to sign in (or refused);
- a learner (enrolled in the course) is refused: 403 or 404;
- for a route of one course (it takes `<slug>` or an object's id): a trainer of another course
  and an administrator of an unrelated organisation are refused, while the
  course's own trainer can open its GET pages (so the refusals are about
  who asks, not about a wrong id in the URL).

A route with a parameter this test cannot fill fails loudly: teach
`_value` the new name (tests/url_map.py reads the routes)."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.conftest import login
from tests.url_map import ask, methods, rules_under, unknown, url_of
from vle.catalog.models import Item
from vle.quizzes import services as quizzes

DENIED = {403, 404}
# Parameters naming one course's objects: its routes are for its staff only.
OBJECTS = {"slug", "module_id", "item_id", "question_id", "attempt_id"}


@pytest.fixture
def world(session, make_quiz, make_user, make_org, enrol):
    school = make_org(code="school", name="School")
    elsewhere = make_org(code="elsewhere", name="Elsewhere")
    trainer = make_user("trainer", org=school, email="owner@example.org")
    course, quiz = make_quiz(trainers=[trainer], lessons=1)
    module = course.modules[0]
    link = Item(slug="a-link", position=3, prefix="03", kind="link", title="A link",
                settings={"url": "https://example.org/"})  # fmt: skip
    sample = {"name": "notes.pdf", "sha256": "0" * 64, "type": "application/pdf", "size": 9}
    file = Item(slug="a-file", position=4, prefix="04", kind="file", title="A file",
                settings={"file": sample})  # fmt: skip
    module.items.extend([link, file])
    session.commit()
    learner = make_user(org=school, email="learner@example.org")
    enrol(learner, course)
    attempt, _ = quizzes.start_attempt(session, learner, course, quiz)
    quizzes.submit(session, attempt, course, quiz)
    session.commit()
    return {
        "attempt": attempt,
        "course": course,
        "module": module,
        "lesson": next(i for i in course.items if i.kind == "lesson"),
        "quiz": quiz,
        "file": file,
        "link": link,
        "question": quizzes.questions_of(session, quiz)[0],
        "learner": learner,
        "owner": trainer,
        "outsiders": [
            make_user("trainer", org=elsewhere, email="stranger@example.org"),
            make_user("admin", org=elsewhere, email="far-admin@example.org"),
        ],
    }


def _value(rule: Rule, name: str, world: dict[str, Any]) -> Any:
    if name == "slug":
        return world["course"].slug
    if name == "module_id":
        return world["module"].id
    if name == "attempt_id":
        return world["attempt"].id
    if name == "question_id":
        return world["question"].id
    if name == "item_id":
        for part, kind in (("/quizzes/", "quiz"), ("/files/", "file"), ("/links/", "link")):
            if part in rule.rule:
                return world[kind].id
        return world["lesson"].id
    raise unknown(rule, name)


def test_every_trainer_route_refuses_those_who_may_not_use_it(app, world):
    rules = rules_under(app, "/trainer", at_least=10)
    anonymous = app.test_client()
    learner = app.test_client()
    login(learner, "learner@example.org")
    owner = app.test_client()
    login(owner, "owner@example.org")
    outsiders = []
    for person in world["outsiders"]:
        client = app.test_client()
        login(client, person.email)
        outsiders.append(client)
    for rule in rules:
        url = url_of(app, rule, partial(_value, world=world))
        for method in methods(rule):
            answer = ask(anonymous, method, url)
            assert answer.status_code in {302, 401, *DENIED}, (method, url, answer.status_code)
            if answer.status_code == 302:
                assert "/login" in answer.headers["Location"], (method, url)
            answer = ask(learner, method, url)
            assert answer.status_code in DENIED, (method, url, "learner", answer.status_code)
            if not rule.arguments & OBJECTS:
                continue  # not one course's: any trainer may open it
            for client, person in zip(outsiders, world["outsiders"], strict=True):
                answer = ask(client, method, url)
                assert answer.status_code in DENIED, (method, url, person.email, answer.status_code)
            if method == "GET":
                answer = ask(owner, "GET", url)
                assert answer.status_code < 500, (url, "owner", answer.status_code)
                assert answer.status_code not in DENIED, (url, "owner", answer.status_code)
