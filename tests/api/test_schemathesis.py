"""Generated calls against the OpenAPI document (issue 14, point 7): every
operation of /api/v1, in-process, with a learner's and an administrator's token,
each answer checked by every schemathesis check (`--checks all`): no 5xx, each
status, content type, header and body as the document says, invalid data refused,
valid data accepted, a method the path does not take answered 405 with Allow,
no answer without a token. Bounded: a few dozen examples an operation."""

from __future__ import annotations

import tempfile
import zlib
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from tests.quizzes.conftest import make_quiz  # noqa: F401 - a fixture, used by `world`
from vle import create_app
from vle.learning import services as learning
from vle.quizzes import services as quizzes

EXAMPLES = 60

# Every check runs (schemathesis's default in code: `--checks all`), with
# settings for what the document cannot say:
CONFIG = """
[generation]
# Query parameters the API does not know are ignored, as HTTP APIs do (a cache
# buster, a tracking tag), so a request is not invalid for carrying one more.
# (This also keeps undocumented body fields out of the invalid cases; the API
# refuses those, as tests/api/test_enrolment_requests.py checks.)
allow-extra-parameters = false

# What the document cannot say about valid data, for the operations it concerns
# (422 is refused for valid data everywhere else):
[[operations]]
include-path = "/api/v1/attempts/{id}/answers/{question_id}"
# The shape of an answer depends on its question's type (a choice id, a list,
# a number...), which the document cannot say per question: a well-formed
# answer of the wrong shape for its question is refused with 422.
checks.positive_data_acceptance.expected-statuses = [200, 401, 403, 404, 409, 422]

[[operations]]
include-path = "/api/v1/reports/completion"
# Organisation codes and course slugs are looked up: a filter naming none is a 422.
checks.positive_data_acceptance.expected-statuses = [200, 401, 403, 404, 422]

[[operations]]
include-path = "/api/v1/reports/competencies"
# Organisation, framework and competency codes and ratings are looked up: naming none is a 422.
checks.positive_data_acceptance.expected-statuses = [200, 401, 403, 404, 422]

[[operations]]
include-path = "/api/v1/courses/{slug}/assignments"
# Organisation codes are looked up: naming none is a 422.
checks.positive_data_acceptance.expected-statuses = [202, 401, 403, 404, 409, 422]
"""


def _served_document() -> dict[str, Any]:
    """/api/v1/openapi.json as the app serves it, read when the tests are
    collected (the operations are the tests): from an app of its own, which
    reads no database to serve it."""
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": "sqlite://"}, env="test")
        response = app.test_client().get("/api/v1/openapi.json")
        assert response.status_code == 200
        return response.get_json()


schema = schemathesis.openapi.from_dict(
    _served_document(), config=schemathesis.config.SchemathesisConfig.from_str(CONFIG)
)


@pytest.fixture
def world(session, make_org, make_user, make_quiz, token_for):  # noqa: F811
    """A learner enrolled in a quiz course with an attempt open; an
    administrator of the learner's organisation; the path parameters that name
    them (generated ones seldom name anything)."""
    org = make_org("CITY")
    learner = make_user(org=org, email="ona@example.org")
    admin = make_user("admin", org=org, email="admin@example.org")
    course, quiz = make_quiz(lessons=1)
    learning.enrol(session, learner, course)
    attempt, _created = quizzes.start_attempt(session, learner, course, quiz)
    session.commit()
    ids = {"/api/v1/quizzes/": quiz.id, "/api/v1/items/": course.items[0].id,
           "/api/v1/attempts/": attempt.id}  # fmt: skip
    question = quizzes.questions_of(session, quiz)[0].id

    def known(path: str, name: str) -> Any:
        if name == "id":
            return next((id_ for prefix, id_ in ids.items() if path.startswith(prefix)), None)
        return {"slug": course.slug, "question_id": question}.get(name)

    return SimpleNamespace(tokens=[token_for(learner), token_for(admin)], known=known)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same calls on every run: CI fails on a change, not on luck
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_as_its_document_says(case, app, world):
    # This test's app (its database), for the checks' own calls too.
    case.operation.app = case.operation.schema.app = app
    # Half the time, a valid path parameter names what the world holds (chosen by
    # the generated value itself, so that a failing case replays alike; not by a
    # strategy of our own, which would turn schemathesis's coverage phase off).
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.PATH):
        for name, value in list((case.path_parameters or {}).items()):
            known = world.known(case.operation.path, name)
            if known is not None and zlib.crc32(repr(value).encode()) % 2:
                case.path_parameters[name] = known
    for headers in world.tokens:
        case.call_and_validate(headers=headers)
