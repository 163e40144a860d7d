"""The OpenAPI 3 document of /api/v1. A test checks that every route is in it."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_WORDS = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "Not allowed",
    404: "Not found (drafts included, for those who may not see them)",
    409: "Conflict with the current state",
    422: "Invalid data",
}


# An enrolment key tried too often (vle.learning.services.reserve_key_try).
KEY_TRIES = {429: "More enrolment keys tried a minute than allowed (a wrong key counts)"}


def errors(*statuses: int, words: dict[int, str] | None = None) -> dict[str, Any]:
    """Error responses for `statuses`; `words` overrides the descriptions of some."""
    described = {**ERROR_WORDS, **(words or {})}
    return {str(s): json_response(ref("Error"), described[s]) for s in statuses}


# A string as the API takes it: no control characters but tab and line breaks
# (vle/inputs.py refuses the others with 422).
TEXT = {"type": "string", "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"}

# A day as the API takes it: YYYY-MM-DD from 1900-01-01 to 2999-12-31 (vle/periods.py
# refuses the others with 422).
DAY = {"type": "string", "format": "date", "pattern": "^(19|2[0-9])[0-9][0-9]-"}

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
ITEM_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
            # The response's X-Request-Id: quote it when reporting the error.
            "request_id": {"type": "string"},
        },
    },
    "Me": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "enum": ["learner", "trainer", "admin"]},
            "network": {"type": "boolean"},
            "organisation": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
            },
            "locale": {"type": ["string", "null"]},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Enrolment": {
        "type": "object",
        "required": [
            "course",
            "url",
            "status",
            "progress",
            "enrolled_at",
            "completed_at",
            "due",
            "overdue",
            "expires_at",
        ],
        "properties": {
            "course": {"type": "string", "description": "course slug"},
            "url": {"type": "string", "format": "uri"},
            "status": {
                "type": "string",
                "enum": ["not_started", "in_progress", "completed", "expired"],
            },
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "enrolled_at": {"type": "string", "format": "date-time"},
            "completed_at": {"type": ["string", "null"], "format": "date-time"},
            "due": {
                "type": ["string", "null"],
                "format": "date",
                "description": "the due date of the assignments that hold the learner to it",
            },
            "overdue": {"type": "boolean"},
            "expires_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "when the latest completion's validity ends (recurring training)",
            },
            "badge": {
                "type": ["object", "null"],
                "description": (
                    "GET /api/v1/me/enrolments only: the badge of the course's latest completion"
                    " (completed or expired enrolments); null when there is none or it was revoked"
                ),
                "properties": {
                    "assertion": {
                        "type": "string",
                        "format": "uri",
                        "description": "Open Badges 2.0 hosted assertion (application/ld+json)",
                    },
                    "credential": {
                        "type": "string",
                        "format": "uri",
                        "description": "Open Badges 3.0 credential, a VC-JWT (application/vc+jwt)",
                    },
                },
            },
        },
    },
    "CourseSummary": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "language": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "published", "archived"]},
            "enrolment_key_required": {"type": "boolean"},
        },
    },
    "Item": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["lesson", "quiz", "file", "link"]},
            "title": {"type": "string"},
            "required": {"type": "boolean"},
            "minutes": {"type": ["integer", "null"]},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Course": {
        "allOf": [
            ref("CourseSummary"),
            {
                "type": "object",
                "properties": {
                    "modules": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "slug": {"type": "string"},
                                "title": {"type": "string"},
                                "items": {"type": "array", "items": ref("Item")},
                            },
                        },
                    }
                },
            },
        ]
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3 document"}},
        }
    },
    "/api/v1/me": {
        "get": {
            "summary": "The token's user",
            "responses": {"200": json_response(ref("Me"), "The user"), **errors(401)},
        }
    },
    "/api/v1/me/enrolments": {
        "get": {
            "summary": "The user's enrolments, newest first",
            "responses": {
                "200": json_response(
                    {
                        "type": "object",
                        "properties": {"enrolments": {"type": "array", "items": ref("Enrolment")}},
                    },
                    "Enrolments",
                ),
                **errors(401),
            },
        }
    },
    "/api/v1/courses": {
        "get": {
            "summary": "The catalogue of published courses",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": (
                        "search: every word in the title, the summary or an item's title, "
                        "without case or diacritics, as plain text"
                    ),
                },
                {
                    "name": "language",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["en", "lt", "pl", "nb"]},
                    "description": "only courses written in this language",
                },
            ],
            "responses": {
                "200": json_response(
                    {
                        "type": "object",
                        "properties": {"courses": {"type": "array", "items": ref("CourseSummary")}},
                    },
                    "Courses",
                ),
                **errors(401, 422),
            },
        }
    },
    "/api/v1/courses/{slug}": {
        "get": {
            "summary": "A course with its modules and items",
            "parameters": [SLUG],
            "responses": {"200": json_response(ref("Course"), "The course"), **errors(401, 404)},
        }
    },
    "/api/v1/courses/{slug}/enrolments": {
        "post": {
            "summary": "Enrol (yourself; administrators may name a `user` in their scope)",
            "parameters": [SLUG],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "key": {**TEXT, "description": "the enrolment key"},
                                "user": {
                                    "oneOf": [{"type": "integer"}, TEXT],
                                    "description": "admins: user id or email",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": json_response(ref("Enrolment"), "Enrolled"),
                "200": json_response(ref("Enrolment"), "Already enrolled: the same enrolment"),
                **errors(400, 401, 403, 404, 422, 429, words=KEY_TRIES),
            },
        }
    },
    "/api/v1/items/{id}/completion": {
        "post": {
            "summary": "Mark an item complete (lessons); returns the course enrolment",
            "parameters": [ITEM_ID],
            "responses": {
                "200": json_response(ref("Enrolment"), "The enrolment with its new progress"),
                **errors(401, 403, 404, 422),
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "vle API", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": PATHS,
    }


def register_paths(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Later API parts (quizzes, reports) add their paths here."""
    PATHS.update(paths)
    SCHEMAS.update(schemas or {})
