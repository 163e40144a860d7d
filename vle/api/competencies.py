"""Competency profiles over the API: one's own, a learner's for their trainers
and administrators, and a trainer's rating with a note. The same reads and
rules as My competencies and the learner's profile page
(competencies.profile, competencies.services)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_babel import gettext as _

from vle import db
from vle.api.openapi import TEXT, errors, json_response, ref, register_paths
from vle.api.views import _json_body, _time, _user, bp, token_required
from vle.competencies import services
from vle.competencies.profile import CompetencyLine, FrameworkLine, Profile, profile
from vle.errors import Forbidden, Invalid

NOTE_MAX = 2000


def _absolute(url: str | None) -> str | None:
    """Evidence keeps root-relative links ("/courses/<slug>"): made absolute
    with the request's host, as the API's other `url` fields are."""
    if not url:
        return None
    if url.startswith("/"):
        return request.host_url.rstrip("/") + url
    return url


def competency_json(line: CompetencyLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "title": line.title,
        "parent": line.parent_code,
        "rating": line.rating,
        "proficient": line.proficient,
        "rated_at": _time(line.rated_at),
        "evidence": [
            {
                "kind": e.kind,
                "at": _time(e.at),
                "by": e.by,
                "note": e.note,
                "url": _absolute(e.url),
                "title": e.title,
            }
            for e in line.evidence
        ],
        "badge": (
            {"assertion": line.badge.assertion, "credential": line.badge.credential}
            if line.badge is not None and line.proficient
            else None
        ),
    }


def framework_json(framework: FrameworkLine) -> dict[str, Any]:
    return {
        "code": framework.code,
        "title": framework.title,
        "scale": framework.scale,
        "competencies": [competency_json(line) for line in framework.competencies],
    }


def profile_json(found: Profile) -> dict[str, Any]:
    return {
        "frameworks": [framework_json(f) for f in found.frameworks],
        "plans": [
            {
                "id": plan.id,
                "name": plan.name,
                "status": plan.status,
                "due": plan.due.isoformat() if plan.due else None,
                "progress": plan.progress,
                "competencies": list(plan.competency_codes),
            }
            for plan in found.plans
        ],
    }


@bp.get("/me/competencies")
@token_required
def my_competencies() -> Response:
    return jsonify(profile_json(profile(db.session(), _user().id)))


@bp.get("/users/<int:user_id>/competencies")
@token_required
def user_competencies(user_id: int) -> Response:
    learner = services.require_profile(db.session(), _user(), user_id)  # 404, 403
    return jsonify(profile_json(profile(db.session(), learner.id)))


@bp.post("/users/<int:user_id>/competencies/<code>/ratings")
@token_required
def rate(user_id: int, code: str) -> tuple[Response, int]:
    db_session = db.session()
    rater = _user()
    learner = services.require_profile(db_session, rater, user_id)  # 404, 403
    if not services.can_rate(db_session, rater, learner):
        raise Forbidden(_("You can rate only learners of your courses or in your scope."))
    competency = services.competency_by_code(db_session, code)  # 404
    body = _json_body("rating", "note")
    rating, note = body.get("rating"), body.get("note")
    if not isinstance(rating, str):
        raise Invalid(_("“rating” must be a value of the competency's scale."))
    if not isinstance(note, str) or not note.strip():
        raise Invalid(_("“note” must say what the rating rests on: it may not be empty."))
    if len(note) > NOTE_MAX:
        raise Invalid(_("“note” may be at most %(num)d characters long.", num=NOTE_MAX))
    services.rate(
        db_session, rater, learner, competency, rating, note, address=request.remote_addr
    )  # 422 for a value not on the scale
    db_session.commit()
    line = profile(db_session, learner.id).competency(competency.code)
    assert line is not None  # the rating puts its framework in the profile
    return jsonify(competency_json(line)), 201


USER_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
CODE = {"name": "code", "in": "path", "required": True, "schema": TEXT,
        "description": "the competency's code (unique across frameworks)"}  # fmt: skip
_PROFILE_WORDS = {
    403: "Outside your courses (trainers) or your organisation subtree (administrators)",
    404: "No such person",
}

register_paths(
    {
        "/api/v1/me/competencies": {
            "get": {
                "summary": "Your competency profile: every framework with a competency linked "
                "to one of your courses or in one of your plans (or in which you hold a "
                "rating), your rating and evidence in each competency, your plans",
                "responses": {
                    "200": json_response(ref("CompetencyProfile"), "The profile"),
                    **errors(401),
                },
            }
        },
        "/api/v1/users/{id}/competencies": {
            "get": {
                "summary": "A learner's competency profile (yourself; trainers of the "
                "learner's courses; administrators whose organisation subtree holds them)",
                "parameters": [USER_ID],
                "responses": {
                    "200": json_response(ref("CompetencyProfile"), "The profile"),
                    **errors(401, 403, 404, words=_PROFILE_WORDS),
                },
            }
        },
        "/api/v1/users/{id}/competencies/{code}/ratings": {
            "post": {
                "summary": "Rate a learner in a competency, with a note (trainers of the "
                "learner's courses; administrators whose organisation subtree holds them). "
                "The rating overrides any automatic one and clears the review request.",
                "parameters": [USER_ID, CODE],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("RatingRequest")}},
                },
                "responses": {
                    "201": json_response(ref("Competency"), "Rated: the competency as it "
                                         "now stands"),
                    **errors(400, 401, 403, 404, 422, words={
                        **_PROFILE_WORDS,
                        404: "No such person or competency",
                        422: "A rating not on the competency's scale, an empty or missing "
                             "note, a field the body may not hold",
                    }),
                },
            }
        },
    },
    {
        "RatingRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["rating", "note"],
            "properties": {
                "rating": {**TEXT, "maxLength": 100,
                           "description": "a value of the competency's scale"},
                "note": {"allOf": [TEXT, {"pattern": r"\S"}], "type": "string",
                         "maxLength": NOTE_MAX,
                         "description": "what the rating rests on (required)"},
            },
        },
        "Evidence": {
            "type": "object",
            "required": ["kind", "at", "by", "note", "url"],
            "properties": {
                "kind": {"type": "string", "enum": [
                    "course_completed", "item_completed", "quiz_passed", "rating", "import",
                    "self_assessment", "rule"]},
                "at": {"type": "string", "format": "date-time"},
                "by": {"type": ["string", "null"],
                       "description": "who rated or assessed; null for automatic evidence"},
                "note": {"type": ["string", "null"]},
                "url": {"type": ["string", "null"], "format": "uri",
                        "description": "the course, lesson or quiz it rests on"},
                "title": {"type": "string", "description": "what it rests on, in words"},
            },
        },
        "Competency": {
            "type": "object",
            "required": ["code", "title", "parent", "rating", "proficient", "rated_at",
                         "evidence", "badge"],
            "properties": {
                "code": {"type": "string"},
                "title": {"type": "string"},
                "parent": {"type": ["string", "null"], "description": "the parent's code"},
                "rating": {"type": ["string", "null"], "description": "a value of the scale"},
                "proficient": {"type": "boolean"},
                "rated_at": {"type": ["string", "null"], "format": "date-time"},
                "evidence": {"type": "array", "items": ref("Evidence"),
                             "description": "newest first; a self-assessment never counts"},
                "badge": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["assertion", "credential"],
                            "properties": {
                                "assertion": {"type": "string", "format": "uri",
                                              "description": "Open Badges 2.0 assertion"},
                                "credential": {"type": "string", "format": "uri",
                                               "description": "Open Badges 3.0 VC-JWT"},
                            },
                        },
                    ]
                },
            },
        },
        "CompetencyProfile": {
            "type": "object",
            "required": ["frameworks", "plans"],
            "properties": {
                "frameworks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["code", "title", "scale", "competencies"],
                        "properties": {
                            "code": {"type": "string"},
                            "title": {"type": "string"},
                            "scale": {"type": "array", "items": {"type": "string"},
                                      "description": "lowest first"},
                            "competencies": {"type": "array", "items": ref("Competency"),
                                             "description": "the tree, depth first"},
                        },
                    },
                },
                "plans": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "name", "status", "due", "progress", "competencies"],
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "status": {"type": "string",
                                       "enum": ["draft", "active", "complete"]},
                            "due": {"type": ["string", "null"], "format": "date"},
                            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                            "competencies": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
)  # fmt: skip
