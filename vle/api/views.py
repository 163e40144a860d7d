"""/api/v1: JSON for HR systems, mobile apps and scripts (bearer-token auth)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from werkzeug.wrappers import Response

from vle import db, inputs
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.api.openapi import openapi_document
from vle.catalog import services as catalog
from vle.catalog.models import Course, Item
from vle.competencies import badges
from vle.db import utcnow
from vle.errors import DomainError, Forbidden, Invalid, NotFound, json_error
from vle.learning import services as learning
from vle.learning.models import Enrolment

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Any:
    return json_error(error.status, error.message, error.code)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Any:
    db.session().rollback()
    return json_error(error.status, str(error.message), error.code)


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, _("Send a personal API token: Authorization: Bearer <token>."))
        api_token = accounts.token_for(db.session(), token.strip())
        if api_token is None:
            raise ApiError(401, _("The API token is not valid."))
        if accounts.token_use_due(api_token):
            with db.bookkeeping() as db_session:
                accounts.record_token_use(db_session, api_token.id)
        g.api_user = api_token.user
        refresh()  # the locale is the token owner's from here on (vle.select_locale)
        _check_body()
        return view(*args, **kwargs)

    return wrapper


def _check_body() -> None:
    """Every endpoint, whether it reads a body or not: one that is sent must be
    JSON (a document nested too deeply to read is not: vle.inputs), with no
    control character in any string (422)."""
    if not request.get_data():
        return
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, _("The request body must be a JSON object."))
    if inputs.json_has_control(body):
        raise Invalid(inputs.CONTROL_CHARACTERS)


def _user() -> User:
    return g.api_user


def _json_body(*fields: str) -> dict[str, Any]:
    """The request's JSON object ({} when no body is sent); with `fields`, it
    may hold only those (`_only`)."""
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, _("The request body must be a JSON object."))
    return _only(body, *fields) if fields else body


def _only(body: dict[str, Any], *fields: str) -> dict[str, Any]:
    """`body`, which may hold only `fields`, as the OpenAPI document says: a
    misspelt one ("usr") is refused, not left out as if it had not been sent."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise Invalid(
            _(
                "The request body may hold only %(fields)s, not %(unknown)s.",
                fields=", ".join(f"“{name}”" for name in fields),
                unknown=", ".join(f"“{name}”" for name in unknown),
            )
        )
    return body


def _time(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def enrolment_json(enrolment: Enrolment | learning.EnrolmentLine, slug: str) -> dict[str, Any]:
    return {
        "course": slug,
        "url": url_for("learning.course", slug=slug, _external=True),
        "status": enrolment.shown_status(),  # expired at once (learning.models.is_expired)
        "progress": enrolment.progress,
        "enrolled_at": _time(enrolment.enrolled_at),
        "completed_at": _time(enrolment.completed_at),
        "due": enrolment.due.isoformat() if enrolment.due else None,
        "overdue": enrolment.is_overdue(utcnow().date()),
        "expires_at": _time(enrolment.expires_at),
    }


def course_summary_json(course: Course) -> dict[str, Any]:
    return {
        "slug": course.slug,
        "url": url_for("learning.course", slug=course.slug, _external=True),
        "title": course.title,
        "summary": course.summary,
        "language": course.language,
        "status": course.status,
        "enrolment_key_required": bool(course.enrolment_key),
    }


def item_json(course: Course, item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "required": item.required,
        "minutes": item.minutes,
        "url": url_for("learning.item", slug=course.slug, item_id=item.id, _external=True),
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/me")
@token_required
def me() -> Response:
    user = _user()
    return jsonify(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "network": user.is_network_admin,
            "organisation": {"code": user.organisation.code, "name": user.organisation.name},
            "locale": user.locale,
            "url": url_for("learning.my_learning", _external=True),
        }
    )


@bp.get("/me/enrolments")
@token_required
def my_enrolments() -> Response:
    db_session = db.session()
    enrolments = learning.my_enrolments(db_session, _user())
    # A completed course's proof: the badge of its latest completion (one query).
    course_badges = badges.course_badges_of(db_session, _user().id)
    lines = []
    for enrolment in enrolments:
        line = enrolment_json(enrolment, enrolment.slug)
        badge = course_badges.get(enrolment.slug)
        completed = line["status"] in ("completed", "expired")
        line["badge"] = (
            {"assertion": badge.assertion, "credential": badge.credential}
            if badge is not None and completed
            else None
        )
        lines.append(line)
    return jsonify({"enrolments": lines})


@bp.get("/courses")
@token_required
def courses() -> Response:
    language = request.args.get("language", "")
    if "language" in request.args and language not in catalog.LANGUAGE_NAMES:
        raise Invalid(
            _("“language” must be one of: %(codes)s.", codes=", ".join(catalog.LANGUAGE_NAMES))
        )
    found = catalog.published_courses(db.session(), request.args.get("q", "")[:200], language)
    return jsonify({"courses": [course_summary_json(c) for c in found]})


@bp.get("/courses/<slug>")
@token_required
def course(slug: str) -> Response:
    course = catalog.course_for(db.session(), slug, _user())
    body = course_summary_json(course)
    body["modules"] = [
        {"slug": m.slug, "title": m.title, "items": [item_json(course, i) for i in m.items]}
        for m in course.modules
    ]
    return jsonify(body)


@bp.post("/courses/<slug>/enrolments")
@token_required
def enrol(slug: str) -> tuple[Response, int]:
    db_session = db.session()
    course = catalog.course_for(db_session, slug, _user())
    body = _json_body("key", "user")
    key = body.get("key")
    if "key" in body and not isinstance(key, str):  # null too, as the OpenAPI schema says
        raise Invalid(_("“key” must be a string."))
    learner, method = _user(), "self"
    if "user" in body:
        learner = _admin_target(body["user"])
        method = "manual" if learner.id != _user().id else "self"
    if method == "self" and course.enrolment_key:
        with db.transaction() as counting:  # counted even when the key is wrong
            allowed = learning.reserve_key_try(counting, learner, request.remote_addr)
        if not allowed:
            raise learning.TooManyKeyTries()
    enrolment, created = learning.enrol(
        db_session, learner, course, key=key, method=method, by=_user(),
        address=request.remote_addr,
    )  # fmt: skip
    db_session.commit()
    return jsonify(enrolment_json(enrolment, course.slug)), 201 if created else 200


def _admin_target(ident: Any) -> User:
    """The learner an administrator names by id or email, within their scope."""
    admin = _user()
    if not admin.is_admin:
        raise Forbidden(_("Only administrators can enrol other users."))
    db_session = db.session()
    if isinstance(ident, int) and not isinstance(ident, bool):
        user_id = inputs.as_id(ident)  # larger than an id can be: nobody
        target = db_session.get(User, user_id) if user_id is not None else None
    elif isinstance(ident, str):
        target = accounts.user_by_email(db_session, ident)
    else:
        raise Invalid(_("“user” must be a user id or an email address."))
    if target is None or not admin.administers(target.organisation):
        raise NotFound(_("There is no such user in your organisation."))
    if not admin.manages(target):  # a network administrator, for a scoped one
        raise Forbidden(_("This account is outside your scope."))
    return target


@bp.post("/items/<int:item_id>/completion")
@token_required
def complete_item(item_id: int) -> Response:
    db_session = db.session()
    course, item = catalog.course_and_item(db_session, item_id, _user())
    enrolment = learning.complete_item(db_session, _user(), course, item)
    db_session.commit()
    return jsonify(enrolment_json(enrolment, course.slug))
