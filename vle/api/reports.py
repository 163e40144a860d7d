"""GET /api/v1/reports/completion: the completion report for HR systems and scripts.

The same service as the Reports page and `vle report completion`, so the three
agree row for row. Dates are whole UTC days; times in the answer are UTC."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Response, request, stream_with_context
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from vle import db
from vle.api.openapi import DAY, register_paths
from vle.api.views import ApiError, _user, bp, token_required
from vle.reports import competencies, services
from vle.reports.scope import attachment

API_FORMATS = ("json", "csv")


@bp.get("/reports/completion")
@token_required
def completion_report() -> Response:
    user = _user()
    scope = services.scope_for(user)  # learners: 403
    fmt = (request.args.get("format") or "json").strip().lower()
    if fmt not in API_FORMATS:
        raise ApiError(422, _("“format” must be json or csv."), "invalid")
    filters = services.resolve_filters(
        db.session(),
        scope,
        organisation=request.args.get("organisation"),
        course=request.args.get("course"),
        since=request.args.get("since"),
        until=request.args.get("until"),
        status=request.args.get("status"),
        tz=UTC,
    )  # unknown names, bad dates: 422; outside the scope: 403
    sort = services.parse_sort(request.args.get("sort"))
    # The audit entry in a short write of its own (on SQLite the writer lock is held
    # for it alone); the rows are read in a snapshot that takes no lock.
    with db.transaction() as db_session:
        services.record_export(
            db_session, user, request.remote_addr, fmt, filters, scope, sort, "api"
        )
    locale = str(get_locale())  # the token owner's language (vle.select_locale)

    def chunks() -> Any:
        # Runs as the body is sent, after the view has returned: it reads with the
        # streaming context's session, in a snapshot ended when the body ends. CSV
        # headers and status words in the token owner's language.
        with force_locale(locale):
            yield from services.export_chunks(fmt, db.snapshot_session, filters, scope, sort, UTC)

    media_type, _ext = services.EXPORT_FORMATS[fmt]
    response = Response(stream_with_context(chunks()), mimetype=media_type)
    if fmt == "csv":
        response.headers["Content-Disposition"] = attachment(services.export_filename(fmt, filters))
    response.headers["Cache-Control"] = "no-store"
    return response


_FILTERS = [
    {
        "name": "organisation",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "schema": {"type": "string"},
        "description": "organisation code: that organisation and its sub-organisations "
        "(403 when outside your scope)",
    },
    {"name": "course", "in": "query", "required": False, "schema": {"type": "string"},
     "allowEmptyValue": True, "description": "course slug"},
    {"name": "since", "in": "query", "required": False,
     "schema": DAY, "allowEmptyValue": True,
     "description": "YYYY-MM-DD (UTC), 1900-01-01 to 2999-12-31: enrolments enrolled or "
                    "completed on or after this day"},
    {"name": "until", "in": "query", "required": False,
     "schema": DAY, "allowEmptyValue": True,
     "description": "YYYY-MM-DD (UTC), 1900-01-01 to 2999-12-31: enrolments enrolled or "
                    "completed on or before this day"},
    {"name": "status", "in": "query", "required": False, "allowEmptyValue": True,
     "schema": {"type": "string", "enum": list(services.FILTER_STATUSES)},
     "description": "a status (expired: a completion past its validity), or overdue: past "
                    "the due date of an assignment, not completed"},
    {"name": "format", "in": "query", "required": False, "allowEmptyValue": True,
     "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}},
    {"name": "sort", "in": "query", "required": False, "allowEmptyValue": True,
     "schema": {"type": "string", "default": services.DEFAULT_SORT},
     "description": "column to sort by (" + ", ".join(services.SORT_COLUMNS) + "); a leading "
     "minus sorts descending; anything else sorts by the default"},
]  # fmt: skip
# allowEmptyValue: an empty filter (`?status=`, as a form sends its fields) is no filter.

register_paths(
    {
        "/api/v1/reports/completion": {
            "get": {
                "summary": "The completion report (administrators: their organisation "
                "subtree; trainers: the courses they train)",
                "description": "One row per (learner, course enrolment), streamed. JSON keys "
                "are fixed; CSV is UTF-8 with a BOM, headers and status words in the token "
                "owner's language, times in UTC, formula-like cells neutralised.",
                "parameters": _FILTERS,
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CompletionReport"}
                            },
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **{
                        str(status): {
                            "description": description,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Error"}
                                }
                            },
                        }
                        for status, description in (
                            (401, "Missing or invalid token"),
                            (403, "Not an administrator or trainer, or a filter outside your "
                             "scope"),
                            (422, "Unknown organisation or course, a malformed or reversed "
                             "period or a day outside 1900-01-01..2999-12-31, an unknown status "
                             "or format"),
                        )
                    },
                },
            }
        }
    },
    {
        "CompletionRow": {
            "type": "object",
            "required": list(services.JSON_KEYS),
            "properties": {
                "learner_name": {"type": "string"},
                "email": {"type": "string"},
                "organisation_code": {"type": "string"},
                "organisation_name": {"type": "string"},
                "course": {"type": "string", "description": "course slug"},
                "course_title": {"type": "string"},
                "enrolled_at": {"type": "string", "format": "date-time"},
                "status": {"type": "string",
                           "enum": ["not_started", "in_progress", "completed", "expired"]},
                "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                "completed_at": {"type": ["string", "null"], "format": "date-time"},
                "best_score": {"type": ["number", "null"], "minimum": 0, "maximum": 100,
                               "description": "best graded quiz attempt in the course, %"},
                "competencies": {"type": "array", "items": {"type": "string"},
                                 "description": "codes of the competencies linked to the "
                                 "course that the learner is proficient in"},
                "due": {"type": ["string", "null"], "format": "date",
                        "description": "due date of the assignments that hold the learner"},
                "overdue": {"type": "boolean",
                            "description": "past the due date and not completed"},
                "expires_at": {"type": ["string", "null"], "format": "date-time",
                               "description": "when the latest completion's validity ends "
                               "(recurring training)"},
            },
        },
        "CompletionReport": {
            "type": "object",
            "required": ["rows", "total"],
            "properties": {
                "rows": {"type": "array", "items": {"$ref": "#/components/schemas/CompletionRow"}},
                "total": {"type": "integer"},
            },
        },
    },
)  # fmt: skip


@bp.get("/reports/competencies")
@token_required
def competency_report() -> Response:
    """The competency report: the Reports page's rows for the same filters, streamed."""
    user = _user()
    scope = services.scope_for(user)  # learners: 403
    fmt = (request.args.get("format") or "json").strip().lower()
    if fmt not in API_FORMATS:
        raise ApiError(422, _("“format” must be json or csv."), "invalid")
    filters = competencies.resolve_filters(
        db.session(),
        scope,
        organisation=request.args.get("organisation"),
        framework=request.args.get("framework"),
        competency=request.args.get("competency"),
        rating=request.args.get("rating"),
        since=request.args.get("since"),
        until=request.args.get("until"),
        tz=UTC,
    )  # unknown codes, bad dates or rating: 422; outside the scope: 403
    sort = competencies.parse_sort(request.args.get("sort"))
    with db.transaction() as db_session:
        competencies.record_export(
            db_session, user, request.remote_addr, fmt, filters, scope, sort, "api"
        )
    locale = str(get_locale())

    def chunks() -> Any:
        with force_locale(locale):
            yield from competencies.export_chunks(
                fmt, db.snapshot_session, filters, scope, sort, UTC
            )

    media_type, _ext = services.EXPORT_FORMATS[fmt]
    response = Response(stream_with_context(chunks()), mimetype=media_type)
    if fmt == "csv":
        response.headers["Content-Disposition"] = attachment(
            competencies.export_filename(fmt, filters)
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True,
            "schema": schema or {"type": "string"}, "description": description}  # fmt: skip


_ERRORS = {
    str(status): {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for status, description in (
        (401, "Missing or invalid token"),
        (403, "Not an administrator or trainer, or a filter outside your scope (an "
         "organisation outside your subtree; for a trainer, a framework linked to none of "
         "their courses)"),
        (422, "Unknown organisation, framework or competency, a competency of another "
         "framework, a rating on no scale, a malformed or reversed period or a day outside "
         "1900-01-01..2999-12-31, an unknown format"),
    )
}  # fmt: skip

register_paths(
    {
        "/api/v1/reports/competencies": {
            "get": {
                "summary": "The competency report (administrators: their organisation "
                "subtree; trainers: the learners of their courses, in the frameworks linked "
                "to those courses)",
                "description": "One row per (learner, competency) with a rating or evidence, "
                "streamed. JSON keys are fixed; CSV is UTF-8 with a BOM, headers and words in "
                "the token owner's language, times in UTC, formula-like cells neutralised.",
                "parameters": [
                    _query("organisation", "organisation code: that organisation and its "
                           "sub-organisations (403 when outside your scope)"),
                    _query("framework", "framework code"),
                    _query("competency", "competency code"),
                    _query("rating", "a value of the scale, or proficient / not_proficient"),
                    _query("since", "YYYY-MM-DD (UTC), 1900-01-01 to 2999-12-31: rated on or "
                           "after this day", DAY),
                    _query("until", "YYYY-MM-DD (UTC), 1900-01-01 to 2999-12-31: rated on or "
                           "before this day", DAY),
                    _query("format", "json (default) or csv",
                           {"type": "string", "enum": ["json", "csv"], "default": "json"}),
                    _query("sort", "column to sort by (" + ", ".join(competencies.SORT_COLUMNS)
                           + "); a leading minus sorts descending; anything else sorts by the "
                           "default", {"type": "string", "default": competencies.DEFAULT_SORT}),
                ],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CompetencyReport"}
                            },
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **_ERRORS,
                },
            }
        }
    },
    {
        "CompetencyReportRow": {
            "type": "object",
            "required": list(competencies.JSON_KEYS),
            "properties": {
                "learner_name": {"type": "string"},
                "email": {"type": "string"},
                "organisation_code": {"type": "string"},
                "organisation_name": {"type": "string"},
                "framework": {"type": "string", "description": "framework code"},
                "competency": {"type": "string", "description": "competency code"},
                "competency_title": {"type": "string"},
                "rating": {"type": ["string", "null"],
                           "description": "a value of the framework's scale; null: evidence "
                           "without a rating"},
                "proficient": {"type": "boolean"},
                "rated_at": {"type": ["string", "null"], "format": "date-time"},
                "evidence_count": {"type": "integer", "minimum": 0},
            },
        },
        "CompetencyReport": {
            "type": "object",
            "required": ["rows", "total"],
            "properties": {
                "rows": {"type": "array",
                         "items": {"$ref": "#/components/schemas/CompetencyReportRow"}},
                "total": {"type": "integer"},
            },
        },
    },
)  # fmt: skip
