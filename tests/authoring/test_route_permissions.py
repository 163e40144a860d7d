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
`_value` the new name."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, Rule

from tests.conftest import login, post_form
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


def _trainer_rules(app: Flask) -> list[Rule]:
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/trainer")]
    assert len(rules) > 10, "the authoring routes are missing from the URL map"
    return sorted(rules, key=lambda r: r.rule)


def _value(rule: Rule, name: str, world: dict[str, Any]) -> Any:
    converter = rule._converters[name]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
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
    raise AssertionError(f"{rule.rule}: teach this test the parameter “{name}”")


def _url(app: Flask, rule: Rule, world: dict[str, Any]) -> str:
    values = {name: _value(rule, name, world) for name in rule.arguments}
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=next(iter(rule.methods or {"GET"})))


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) & {"GET", "POST"})


def _ask(client, method: str, url: str) -> Any:
    answer = client.get(url) if method == "GET" else post_form(client, url, {})
    # A streamed download keeps its request's context (and so its signed-in
    # user) until the response is closed: close it, as a browser's connection
    # would be, or the next client's request would run as that user.
    answer.get_data()
    answer.close()
    return answer


def test_every_trainer_route_refuses_those_who_may_not_use_it(app, world):
    rules = _trainer_rules(app)
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
        url = _url(app, rule, world)
        for method in _methods(rule):
            answer = _ask(anonymous, method, url)
            assert answer.status_code in {302, 401, *DENIED}, (method, url, answer.status_code)
            if answer.status_code == 302:
                assert "/login" in answer.headers["Location"], (method, url)
            answer = _ask(learner, method, url)
            assert answer.status_code in DENIED, (method, url, "learner", answer.status_code)
            if not rule.arguments & OBJECTS:
                continue  # not one course's: any trainer may open it
            for client, person in zip(outsiders, world["outsiders"], strict=True):
                answer = _ask(client, method, url)
                assert answer.status_code in DENIED, (method, url, person.email, answer.status_code)
            if method == "GET":
                answer = _ask(owner, "GET", url)
                assert answer.status_code < 500, (url, "owner", answer.status_code)
                assert answer.status_code not in DENIED, (url, "owner", answer.status_code)
