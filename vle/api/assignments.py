"""Assigned training over the API: assign a course to people or to an organisation
subtree, and follow the assignment's progress. The same services as the
Assign page and `vle courses assign` (vle.learning.assignments)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _

from vle import db
from vle.api.openapi import DAY, TEXT, errors, json_response, ref, register_paths
from vle.api.views import _json_body, _user, bp, token_required
from vle.catalog import services as catalog
from vle.errors import Invalid
from vle.learning import assignments, tasks
from vle.learning.models import Assignment

_ABSENT = object()


def assignment_json(assignment: Assignment) -> dict[str, Any]:
    return {
        "id": assignment.id,
        "course": assignment.course.slug,
        "url": url_for("assignments.course_assignments", slug=assignment.course.slug,
                       _external=True),
        "status": assignment.status,
        "assigned": assignment.assigned,
        "refused": [
            {"email": entry["email"], "reason": entry["reason"]} for entry in assignment.refused
        ],
        "due": assignment.due.isoformat() if assignment.due else None,
        "organisation": assignment.organisation.code if assignment.organisation else None,
        "role": assignment.role,
        "withdrawn": assignment.is_withdrawn,
    }  # fmt: skip


@bp.post("/courses/<slug>/assignments")
@token_required
def assign(slug: str) -> tuple[Response, int]:
    db_session = db.session()
    actor = _user()
    course = catalog.course_for(db_session, slug, actor)
    body = _json_body("users", "organisation", "role", "due")
    assignments.require_may_assign(actor, course)
    due = _due(body.get("due"))
    if ("users" in body) == ("organisation" in body):
        raise Invalid(_("Send either “users” (a list of e-mails) or “organisation” (a code)."))
    if "users" in body:
        if "role" in body:
            raise Invalid(_("“role” goes with “organisation”, not with “users”."))
        users = body["users"]
        if (
            not isinstance(users, list)
            or not users
            or not all(isinstance(email, str) for email in users)
        ):
            raise Invalid(_("“users” must be a list of e-mail addresses."))
        entries = [(n, email) for n, email in enumerate(users, 1)]
        assignment, _plan = assignments.assign_people(
            db_session, actor, course, entries, due, request.remote_addr
        )
        assignment_id = assignment.id
        db_session.commit()
        tasks.queue_fill(assignment_id)  # their mails, by the worker
        db_session.refresh(assignment)
    else:
        code, role = body["organisation"], body.get("role", _ABSENT)
        if not isinstance(code, str):
            raise Invalid(_("“organisation” must be an organisation's code."))
        if role is _ABSENT:
            role = "learner"
        elif role is not None and role not in assignments.ROLES:
            raise Invalid(_("“role” must be learner, trainer, admin or null (every role)."))
        organisation = assignments.organisation_by_code(db_session, code)
        assignment = assignments.assign_organisation(
            db_session, actor, course, organisation, role, due, request.remote_addr
        )
        assignment_id = assignment.id
        db_session.commit()
        tasks.queue_fill(assignment_id)  # queued: the worker fills it (at once in tests)
        db_session.refresh(assignment)
    return jsonify(assignment_json(assignment)), 202


def _due(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(_("“due” must be a date, YYYY-MM-DD, or null."))
    return assignments.parse_due(value)


@bp.get("/assignments/<int:assignment_id>")
@token_required
def assignment(assignment_id: int) -> Response:
    found = assignments.assignment_for(db.session(), _user(), assignment_id)
    return jsonify(assignment_json(found))


ASSIGNMENT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}

register_paths(
    {
        "/api/v1/courses/{slug}/assignments": {
            "post": {
                "summary": "Assign a course (administrators, the course's trainers): to people "
                "by e-mail or to an organisation subtree (of one role, or every role with "
                "null), with an optional due date",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("AssignmentRequest")}},
                },
                "responses": {
                    "202": json_response(
                        ref("Assignment"),
                        "Accepted: people are assigned at once, an organisation by a "
                        "background task whose progress GET /api/v1/assignments/{id} shows",
                    ),
                    **errors(400, 401, 403, 404, 422),
                },
            }
        },
        "/api/v1/assignments/{id}": {
            "get": {
                "summary": "An assignment and its progress",
                "parameters": [ASSIGNMENT_ID],
                "responses": {
                    "200": json_response(ref("Assignment"), "The assignment"),
                    **errors(401, 404),
                },
            }
        },
    },
    {
        "AssignmentRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "users": {"type": "array", "minItems": 1, "items": TEXT},
                "organisation": TEXT,
                "role": {
                    "type": ["string", "null"],
                    "enum": ["learner", "trainer", "admin", None],
                    "description": "with organisation: default learner; null: every role",
                },
                "due": {**DAY, "type": ["string", "null"]},
            },
            "oneOf": [{"required": ["users"]}, {"required": ["organisation"]}],
        },
        "Assignment": {
            "type": "object",
            "required": ["id", "status", "assigned", "refused"],
            "properties": {
                "id": {"type": "integer"},
                "course": {"type": "string"},
                "url": {"type": "string", "format": "uri"},
                "status": {"type": "string", "enum": ["queued", "running", "done"]},
                "assigned": {"type": "integer", "minimum": 0},
                "refused": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["email", "reason"],
                        "properties": {
                            "email": {"type": "string"},
                            "reason": {
                                "type": "string",
                                "enum": list(assignments.REASONS),
                            },
                        },
                    },
                },
                "due": {"type": ["string", "null"], "format": "date"},
                "organisation": {"type": ["string", "null"]},
                "role": {"type": ["string", "null"]},
                "withdrawn": {"type": "boolean"},
            },
        },
    },
)
