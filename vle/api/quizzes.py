"""Quiz attempts over the API: start or resume, read, save an answer, submit.

The same services as the quiz pages. Only its learner starts, answers and
submits an attempt. Reading it (GET) is also open to those who may see that
learner's answers, as on the trainer's attempt page (services.readable_attempt:
the course's trainers, network admins, admins whose scope holds the learner);
anyone else gets 404 for it. Correctness, marks and feedback appear (under
"review") to the learner only when the quiz's review settings allow it; those
who may see the learner's answers see them once it is submitted.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from flask_babel import gettext as _

from vle import db
from vle.api.openapi import TEXT, errors, json_response, ref, register_paths
from vle.api.views import ApiError, _json_body, _only, _time, _user, bp, token_required
from vle.catalog import services as catalog
from vle.catalog.models import Course, Item
from vle.db import utcnow
from vle.errors import Conflict, NotFound
from vle.quizzes import services
from vle.quizzes.gift import TYPES as QUESTION_TYPE_NAMES
from vle.quizzes.models import Attempt


def _question_json(entry: services.ShownQuestion) -> dict[str, Any]:
    return {"id": entry.question.id, **entry.public}


def _review_json(entry: services.ShownQuestion) -> dict[str, Any]:
    review = entry.review
    assert review is not None
    return {
        "fraction": review.fraction,
        "outcome": review.outcome,
        "feedback": review.feedback_html,
        "general_feedback": review.general_feedback_html,
        "correct_answer": review.correct_answer_html,
        "comment": review.comment,
    }


def attempt_json(attempt: Attempt, course: Course, item: Item, own: bool = True) -> dict[str, Any]:
    """The Attempt shape of PRODUCT.md, plus its page's URL, its number, times
    and — only when the review settings allow it — the review. `own`: the
    learner reads it; otherwise someone who may see their answers (the URL is
    then the trainer's page of the attempt, and the review shown once it is
    submitted)."""
    db_session = db.session()
    settings = services.QuizSettings.of(item)
    review = attempt.finished and not own
    if own and attempt.finished:
        attempts = services.attempts_of(db_session, item, _user())
        accommodation = services.accommodation_for(db_session, item, _user())
        review = services.review_allowed(settings, attempt, attempts, accommodation)
    shown = services.shown_questions(db_session, attempt, with_review=review)
    if own:
        url = url_for(
            "quizzes.result",
            slug=course.slug,
            item_id=item.id,
            attempt_id=attempt.id,
            _external=True,
        )
    else:
        url = url_for("quizzes.trainer_attempt", attempt_id=attempt.id, _external=True)
    return {
        "id": attempt.id,
        "quiz": item.id,
        "url": url,
        "number": attempt.number,
        "state": attempt.state,
        "started_at": _time(attempt.started_at),
        "deadline": _time(attempt.deadline),
        "submitted_at": _time(attempt.submitted_at),
        "questions": [_question_json(entry) for entry in shown],
        "answers": {str(entry.question.id): entry.value for entry in shown if entry.answered},
        "flagged": list(attempt.flagged or []),
        "score": attempt.score,
        "passed": attempt.passed,
        "pass_mark": settings.pass_mark,
        "review": {str(e.question.id): _review_json(e) for e in shown if e.review}
        if review
        else None,
    }


def _own(attempt_id: int) -> tuple[Attempt, Item, Course]:
    db_session = db.session()
    attempt = services.attempt_for(db_session, _user(), attempt_id)  # 404 for anyone else's
    item, course = services.item_and_course(db_session, attempt)
    return attempt, item, course


def _close_if_overdue(attempt: Attempt, course: Course, item: Item) -> None:
    db_session = db.session()
    if services.close_if_overdue(db_session, attempt, utcnow(), course, item):
        db_session.commit()


@bp.post("/quizzes/<int:item_id>/attempts")
@db.reads_first
@token_required
def start_attempt(item_id: int) -> tuple[Response, int]:
    course, item = catalog.course_and_item(db.session(), item_id, _user())
    if item.kind != "quiz":
        raise NotFound(_("There is no such quiz."))
    # Read first; the write lock (SQLite) only for the writes (start_attempt).
    attempt, created = services.start_attempt(
        db.session(), _user(), course, item, writing=db.transaction
    )
    return jsonify(attempt_json(attempt, course, item)), 201 if created else 200


@bp.get("/attempts/<int:attempt_id>")
@token_required
def get_attempt(attempt_id: int) -> Response:
    # The learner's own, or one whose learner's answers the caller may see; 404 else.
    attempt, item, course, own = services.readable_attempt(db.session(), _user(), attempt_id)
    _close_if_overdue(attempt, course, item)
    return jsonify(attempt_json(attempt, course, item, own=own))


@bp.put("/attempts/<int:attempt_id>/answers/<int:question_id>")
@db.reads_first
@token_required
def save_answer(attempt_id: int, question_id: int) -> Response:
    body = _json_body()
    if "answer" not in body:
        raise ApiError(400, _('Send a JSON object with the answer: {"answer": ...}.'))
    _only(body, "answer")
    # The hot path of a quiz. The token was read first; the write lock (SQLite)
    # is held from the one query for the attempt (owner and lock at once) to
    # the saved answer.
    with db.transaction() as db_session:
        attempt = services.lock_own_attempt(db_session, _user(), attempt_id)  # others': 404
        now = utcnow()
        # Loads its quiz only when overdue; the grading is committed either way.
        overdue = services.close_if_overdue(db_session, attempt, now)
        if not overdue:
            saved_at = services.save_answer(
                db_session, attempt, question_id, body["answer"], now, locked=True
            )
    if overdue:
        raise Conflict(_("The time for this attempt is up; its answers can no longer change."))
    return jsonify({"saved_at": _time(saved_at)})


@bp.post("/attempts/<int:attempt_id>/submit")
@token_required
def submit_attempt(attempt_id: int) -> Response:
    attempt, item, course = _own(attempt_id)
    db_session = db.session()
    services.submit(db_session, attempt, course, item, utcnow())
    db_session.commit()
    return jsonify(attempt_json(attempt, course, item))


# --------------------------------------------------------------------------- OpenAPI


_ERROR_WORDS = {
    403: "Not allowed (not enrolled)",
    404: "Not found (another learner's attempt included; GET reads one whose answers you may see)",
    409: "Conflict: submitted, past the deadline, or no attempts left",
    422: "Invalid: a question not in the attempt, or a malformed or oversized answer",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return errors(*statuses, words=_ERROR_WORDS)


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_TEXTS = {"type": "array", "items": {"type": "object", "properties": {
    "id": {"type": "string"}, "text": {"type": "string", "description": "safe HTML"}}}}  # fmt: skip

SCHEMAS = {
    "Question": {
        "type": "object",
        "required": ["id", "type", "text"],
        "description": "What a learner may see of a question: never correctness or feedback.",
        "properties": {
            "id": {"type": "integer"},
            "type": {"type": "string", "enum": list(QUESTION_TYPE_NAMES)},
            "text": {"type": "string", "description": "the question as safe HTML"},
            "choices": {**_TEXTS, "description": "single_choice, multiple_choice, true_false"},
            "stems": {**_TEXTS, "description": "matching"},
            "options": {**_TEXTS, "description": "matching"},
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["id", "quiz", "state", "deadline", "questions", "answers", "score", "passed"],
        "properties": {
            "id": {"type": "integer"},
            "quiz": {"type": "integer", "description": "the quiz item's id"},
            "url": {"type": "string", "format": "uri"},
            "number": {"type": "integer", "description": "1 for the learner's first attempt"},
            "state": {"type": "string", "enum": ["open", "awaiting_grading", "graded"]},
            "started_at": {"type": "string", "format": "date-time"},
            "deadline": {"type": ["string", "null"], "format": "date-time"},
            "submitted_at": {"type": ["string", "null"], "format": "date-time"},
            "questions": {"type": "array", "items": ref("Question")},
            "answers": {
                "type": "object",
                "description": "question id → the saved answer",
                "additionalProperties": True,
            },
            "flagged": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "ids of the questions the learner flagged to come back to, "
                "in the attempt's order",
            },
            "score": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
            "passed": {"type": ["boolean", "null"]},
            "pass_mark": {"type": "integer"},
            "review": {
                "type": ["object", "null"],
                "description": "question id → {fraction, outcome, feedback, general_feedback, "
                "correct_answer, comment}; null until the quiz's review settings allow it",
            },
        },
    },
}

ANSWER_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["answer"],
                "additionalProperties": False,
                "properties": {
                    "answer": {
                        "anyOf": [
                            TEXT,
                            {"type": "number"},
                            {"type": "array", "items": TEXT},
                            {"type": "object", "propertyNames": TEXT, "additionalProperties": TEXT},
                            {"type": "null"},
                        ],
                        "description": 'a choice id (single choice, true/false: "true"/"false"); '
                        "a list of choice ids (multiple choice); a string (short answer, essay); "
                        "a number or numeric string (numerical); {stem_id: option_id} (matching); "
                        "null clears the answer",
                    }
                },
            }
        }
    },
}

register_paths(
    {
        "/api/v1/quizzes/{id}/attempts": {
            "post": {
                "summary": "Start an attempt at a quiz, or resume the open one",
                "parameters": [_path_id("id")],
                "responses": {
                    "201": json_response(ref("Attempt"), "A new attempt"),
                    "200": json_response(ref("Attempt"), "The learner's open attempt (resumed)"),
                    **_errors(401, 403, 404, 409),
                },
            }
        },
        "/api/v1/attempts/{id}": {
            "get": {
                "summary": "One of your attempts, or a learner's whose answers you may see "
                "(the course's trainers, network admins, admins whose organisation holds "
                "the learner)",
                "parameters": [_path_id("id")],
                "responses": {
                    "200": json_response(ref("Attempt"), "The attempt"),
                    **_errors(401, 404),
                },
            }
        },
        "/api/v1/attempts/{id}/answers/{question_id}": {
            "put": {
                "summary": "Save an answer the moment it is given",
                "parameters": [_path_id("id"), _path_id("question_id")],
                "requestBody": ANSWER_BODY,
                "responses": {
                    "200": json_response(
                        {
                            "type": "object",
                            "properties": {"saved_at": {"type": "string", "format": "date-time"}},
                        },
                        "Saved",
                    ),
                    **_errors(400, 401, 404, 409, 422),
                },
            }
        },
        "/api/v1/attempts/{id}/submit": {
            "post": {
                "summary": "Submit and grade (again: the same result)",
                "parameters": [_path_id("id")],
                "responses": {
                    "200": json_response(ref("Attempt"), "Graded, or awaiting a trainer's grading"),
                    **_errors(401, 404),
                },
            }
        },
    },
    SCHEMAS,
)
