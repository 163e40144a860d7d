"""The OpenAPI 3 document of /api/v1. A test checks that every route is in it."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "Malformed request",
        401: "Missing or invalid token",
        403: "Not allowed",
        404: "Not found (drafts included, for those who may not see them)",
        409: "Conflict with the current state",
        422: "Invalid data",
    }
    return {str(s): _json(_ref("Error"), words[s]) for s in statuses}


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
            }
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
        "required": ["course", "url", "status", "progress", "enrolled_at", "completed_at"],
        "properties": {
            "course": {"type": "string", "description": "course slug"},
            "url": {"type": "string", "format": "uri"},
            "status": {"type": "string", "enum": ["not_started", "in_progress", "completed"]},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "enrolled_at": {"type": "string", "format": "date-time"},
            "completed_at": {"type": ["string", "null"], "format": "date-time"},
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
            _ref("CourseSummary"),
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
                                "items": {"type": "array", "items": _ref("Item")},
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
            "responses": {"200": _json(_ref("Me"), "The user"), **_errors(401)},
        }
    },
    "/api/v1/me/enrolments": {
        "get": {
            "summary": "The user's enrolments, newest first",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"enrolments": {"type": "array", "items": _ref("Enrolment")}},
                    },
                    "Enrolments",
                ),
                **_errors(401),
            },
        }
    },
    "/api/v1/courses": {
        "get": {
            "summary": "The catalogue of published courses",
            "parameters": [
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "search in titles"}
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"courses": {"type": "array", "items": _ref("CourseSummary")}},
                    },
                    "Courses",
                ),
                **_errors(401),
            },
        }
    },
    "/api/v1/courses/{slug}": {
        "get": {
            "summary": "A course with its modules and items",
            "parameters": [SLUG],
            "responses": {"200": _json(_ref("Course"), "The course"), **_errors(401, 404)},
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
                            "properties": {
                                "key": {"type": "string", "description": "the enrolment key"},
                                "user": {
                                    "oneOf": [{"type": "integer"}, {"type": "string"}],
                                    "description": "admins: user id or email",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": _json(_ref("Enrolment"), "Enrolled"),
                "200": _json(_ref("Enrolment"), "Already enrolled: the same enrolment"),
                **_errors(400, 401, 403, 404, 422),
            },
        }
    },
    "/api/v1/items/{id}/completion": {
        "post": {
            "summary": "Mark an item complete (lessons); returns the course enrolment",
            "parameters": [ITEM_ID],
            "responses": {
                "200": _json(_ref("Enrolment"), "The enrolment with its new progress"),
                **_errors(401, 403, 404, 422),
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
