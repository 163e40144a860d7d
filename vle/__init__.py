"""vle: a virtual learning environment for public-sector distance training."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

import config as default_config
from vle import db, inputs
from vle.extensions import babel, csrf, limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent

# No inline script or style anywhere: JavaScript and CSS come from /static only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(config: dict[str, Any] | None = None, env: str | None = None) -> Flask:
    """Build the app. `config` overrides settings (tests); `env` picks the defaults
    class (`VLE_ENV` otherwise); VLE_* environment variables override both."""
    settings = default_config.load(env)
    settings.update(config or {})
    if not settings.get("SECRET_KEY"):
        if settings["ENV_NAME"] == "production":
            raise RuntimeError("VLE_SECRET_KEY must be set outside development and demo")
        settings["SECRET_KEY"] = _local_secret(Path(settings["INSTANCE_PATH"]))

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(Path(settings["INSTANCE_PATH"]).resolve()),
        instance_relative_config=False,
    )
    app.config.update(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["SECURE_COOKIES"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings["SECURE_COOKIES"],
        RATELIMIT_STORAGE_URI=settings["RATELIMIT_STORAGE_URL"],
        RATELIMIT_HEADERS_ENABLED=False,
        # A Redis that is down or stalled fails within REDIS_TIMEOUT, and the
        # limits then count in this worker's memory (logged) until it answers.
        RATELIMIT_STORAGE_OPTIONS={
            "socket_timeout": settings["REDIS_TIMEOUT"],
            "socket_connect_timeout": settings["REDIS_TIMEOUT"],
        },
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        BABEL_DEFAULT_LOCALE=settings["DEFAULT_LANGUAGE"],
        BABEL_DEFAULT_TIMEZONE=settings["DEFAULT_TIMEZONE"],
        # A request body at most a little above the upload limit (the form's
        # other fields); larger ones are refused before they are read (413).
        MAX_CONTENT_LENGTH=max(20, int(settings["UPLOAD_MAX_MB"]) + 1) * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    if settings["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings["PROXY_COUNT"], x_proto=settings["PROXY_COUNT"]
        )
    # Before the blueprints add their routes: ids too large for the database and
    # path parts with control characters match no route (404); see vle/inputs.py.
    app.url_map.converters.update(inputs.URL_CONVERTERS)
    app.json = inputs.JSONProvider(app)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.add_extension("jinja2.ext.do")

    # First: its hooks run before (and after) every other extension's.
    from vle.operations import requests as request_log

    request_log.init_app(app)
    db.init_app(app)
    event.listen(db.get_database(app).sessionmaker, "before_flush", inputs.check_text_columns)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    from vle.mail import tasks as mail_tasks

    mail_tasks.init_app(app)  # the queue, and mail sent once its transaction commits

    import vle.accounts.oidc  # noqa: F401 - adds the /login/sso routes to the accounts blueprint
    import vle.accounts.password_views  # noqa: F401 - adds /password/… and /my/password
    import vle.admin.sso_views  # noqa: F401 - adds /admin/organisations/<id>/sso
    import vle.api.assignments  # noqa: F401 - adds the assignment routes to the API
    import vle.api.competencies  # noqa: F401 - adds the competency routes to the API
    import vle.api.quizzes  # noqa: F401 - adds the attempt routes to the API blueprint
    import vle.api.reports  # noqa: F401 - adds the report routes to the API blueprint
    import vle.authoring.content_views  # noqa: F401 - modules and items in the editor
    import vle.authoring.course_views  # noqa: F401 - new course, copy, settings, publishing
    import vle.authoring.file_views  # noqa: F401 - file items
    import vle.authoring.quiz_views  # noqa: F401 - quizzes and their question bank
    import vle.authoring.zip_views  # noqa: F401 - Download as .zip, Upload .zip
    import vle.community.announcement_views  # noqa: F401 - /network/announcements
    import vle.community.directory_views  # noqa: F401 - /network/ and its organisations
    import vle.community.event_views  # noqa: F401 - /network/events and /network/agreements
    import vle.community.forum_mail  # noqa: F401 - forum posts by mail (the worker's task)
    import vle.community.forum_views  # noqa: F401 - /network/forums, threads and posts
    import vle.community.models  # noqa: F401 - the network's tables, ahead of its pages
    import vle.community.search_views  # noqa: F401 - /network/search
    import vle.monitoring.models  # noqa: F401 - indicator snapshots
    import vle.monitoring.views  # noqa: F401 - /network/picture and /network/monitoring
    from vle.accounts.views import bp as accounts_bp
    from vle.admin.plan_views import bp as plans_bp
    from vle.admin.views import bp as admin_bp
    from vle.api.views import bp as api_bp
    from vle.authoring.views import bp as authoring_bp
    from vle.certificates.services import register as register_certificates
    from vle.certificates.views import bp as certificates_bp
    from vle.community.views import bp as community_bp
    from vle.competencies.badge_views import bp as badges_bp
    from vle.competencies.plans import register as register_plans
    from vle.competencies.services import register as register_competencies
    from vle.competencies.views import bp as competencies_bp
    from vle.learning.assignment_views import bp as assignments_bp
    from vle.learning.message_views import bp as messages_bp
    from vle.learning.views import bp as learning_bp
    from vle.mail.views import bp as mail_bp
    from vle.operations.views import bp as operations_bp
    from vle.quizzes.kind import register as register_quizzes
    from vle.reports.views import bp as reports_bp
    from vle.web import register_web

    app.register_blueprint(accounts_bp)
    app.register_blueprint(learning_bp)
    app.register_blueprint(assignments_bp)
    app.register_blueprint(messages_bp)
    register_quizzes(app)  # the quiz item kind and the quiz pages
    register_competencies()  # evidence from completions and passed quizzes
    app.register_blueprint(badges_bp)  # badges' public addresses, /badges/verify
    app.register_blueprint(competencies_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(plans_bp)  # learning plans: /admin/plans/…, /plans/<id>
    register_plans()  # organisation assignments of plans hold newcomers too
    _register_forum_roles()  # who learns in a course and who is its staff, for its forum
    app.register_blueprint(authoring_bp)
    app.register_blueprint(certificates_bp)
    register_certificates()  # a certificate and its notice at each completion
    app.register_blueprint(reports_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(community_bp)  # /network/…
    app.register_blueprint(operations_bp)  # /healthz, /readyz
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never cookies
    register_web(app)
    from vle.operations import metrics

    metrics.init_app(app)  # /metrics, and each request counted and timed
    if app.config.get("BENCH_CEILING"):
        app.register_blueprint(_bench_ceiling())

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Pages, downloads and API answers hold personal data (names, e-mails,
        # scores): no browser or proxy may keep a copy. One rule that cannot
        # miss a route: every response but /static files (public, and worth
        # caching), whether or not the client is signed in.
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["SECURE_COOKIES"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    return app


def _register_forum_roles() -> None:
    """The forums (community) ask learning and quizzes, floors they may not
    import, who learns in a course and who follows its learners."""
    from sqlalchemy import select

    from vle.community.forums import CourseRoles, register_course_roles
    from vle.errors import Forbidden
    from vle.learning.models import Enrolment
    from vle.quizzes.services import staff_scope

    def is_learner(db_session: Any, user: Any, course: Any) -> bool:
        enrolment = db_session.scalar(
            select(Enrolment.id).where(
                Enrolment.user_id == user.id,
                Enrolment.course_id == course.id,
                Enrolment.ended_at.is_(None),
            )
        )
        return enrolment is not None

    def is_staff(db_session: Any, user: Any, course: Any) -> bool:
        if course.can_edit(user):
            return True
        if not user.is_admin:
            return False
        try:
            staff_scope(db_session, user, course)
        except Forbidden:
            return False
        return True

    def learner_ids(db_session: Any, course: Any) -> list[int]:
        enrolled = select(Enrolment.user_id).where(
            Enrolment.course_id == course.id, Enrolment.ended_at.is_(None)
        )
        return list(db_session.scalars(enrolled))

    def course_ids(db_session: Any, user: Any) -> list[int]:
        enrolled = select(Enrolment.course_id).where(
            Enrolment.user_id == user.id, Enrolment.ended_at.is_(None)
        )
        return list(db_session.scalars(enrolled))

    register_course_roles(CourseRoles(is_learner, is_staff, learner_ids, course_ids))


def _bench_ceiling() -> Blueprint:
    """bench/ measures pages against /bench/ceiling, which does no work of its
    own: the most the framework, middleware and server can serve. /bench/page
    is the floor under every page: the site's frame (base.html, the signed-in
    user) around no content. Only registered when VLE_BENCH_CEILING=1."""
    from flask import current_app, render_template

    bench = Blueprint("bench", __name__)
    empty: list[Any] = []

    @bench.get("/bench/ceiling")
    def ceiling() -> tuple[str, int, dict[str, str]]:
        return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}

    @bench.get("/bench/page")
    def page() -> str:
        if not empty:
            empty.append(
                current_app.jinja_env.from_string(
                    '{% extends "base.html" %}{% block title %}Bench{% endblock %}'
                    "{% block content %}<h1>Bench</h1>{% endblock %}"
                )
            )
        return render_template(empty[0])

    return bench


def _local_secret(instance: Path) -> str:
    """Development and demo: a random key kept in the instance folder, so that
    sessions survive a restart without anyone choosing a key."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def select_locale() -> str:
    """The request's language: the user's own setting, then the one chosen
    before signing in, then the browser's (Accept-Language). The user is the
    API token's owner on the API (vle.api.views puts them in g.api_user), the
    signed-in user on the pages: one rule for both."""
    languages = default_config.Config.LANGUAGES
    if not has_request_context():  # the CLI speaks the default language
        return default_config.Config.DEFAULT_LANGUAGE
    user = g.get("api_user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    if user is not None and user.locale in languages:
        return user.locale
    if session.get("locale") in languages:
        return session["locale"]
    from vle.accounts.views import LANGUAGE_COOKIE, browser_language

    if request.cookies.get(LANGUAGE_COOKIE) in languages:
        return request.cookies[LANGUAGE_COOKIE]
    return browser_language(request.accept_languages, languages) or "en"


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return None
