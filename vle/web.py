"""What every page shares: template globals, error pages, the home page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from vle import db
from vle.accounts.views import LANGUAGE_NAMES, safe_next
from vle.catalog import services as catalog
from vle.errors import DomainError, json_error
from vle.extensions import login_manager
from vle.formats import (
    format_date,
    format_datetime,
    format_decimal,
    format_month,
    format_percent,
)
from vle.sanitize import wrap_tables

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("File too large"),
    422: _l("This cannot be saved"),
    429: _l("Too many attempts"),
    503: _l("Service unavailable"),
}


def _template_gettext() -> dict[str, Any]:
    """`_`, `gettext` and `ngettext` for one render, bound to the request's
    translations. Flask-Babel's template callables look the translations up
    again on every call (about 20 µs each, dozens of calls a page); these fetch
    them once. Same rules as Jinja's newstyle gettext, which they replace: the
    result is escaped when autoescaping and always %-formatted (a text without
    a "%" is its own formatting, so that step is skipped)."""
    translations = get_translations()
    # A list says the same thing on many rows ("%(num)d minutes" for 5): each
    # text without variables of its own is made once a render.
    done: dict[tuple[Any, ...], str] = {}

    @pass_context
    def gettext(context: Context, string: str, /, **variables: Any) -> str:
        text = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 -- our catalogues, as Jinja treats them  # nosec B704
        return text % variables if variables or "%" in text else text

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        key = (singular, plural, num, context.eval_ctx.autoescape) if not variables else None
        if key is not None and (text := done.get(key)) is not None:
            return text
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 -- our catalogues, as Jinja treats them  # nosec B704
        text = text % variables
        if key is not None:
            done[key] = text
        return text

    return {"gettext": gettext, "ngettext": ngettext}


# The site's logo (config SITE_LOGO): the kinds of image a browser shows in the header.
LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}
# How many published courses the front page shows.
FRONT_PAGE_COURSES = 6


def site_logo(config: Any) -> tuple[Path, str] | None:
    """The logo file SITE_LOGO names and its content type, or None when it
    names none, a missing file or a kind of file that is not an image."""
    name = config.get("SITE_LOGO")
    if not name:
        return None
    path = Path(name)
    kind = LOGO_TYPES.get(path.suffix.lower())
    return (path, kind) if kind and path.is_file() else None


def expired_form_return() -> str:
    """Where someone whose form expired was: the page the form was on (the
    Referer, when it is this site's), else the address it was posted to. Only a
    same-site relative path (accounts.views.safe_next), else the start page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.scheme in ("http", "https"):
        path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    else:
        path = request.full_path.rstrip("?")
    return safe_next(path, default="/")


def register_web(app: Flask) -> None:
    # Jinja's `_` resolves `gettext` from the template's context, so the
    # per-render callables above take precedence over Flask-Babel's globals.
    app.context_processor(_template_gettext)
    app.jinja_env.globals.update(
        # The language switcher in base.html is plain HTML (a WTForms form
        # built on every page cost more than the rest of the header);
        # POST /language validates it with LanguageForm.
        languages=tuple(LANGUAGE_NAMES.items()),
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_month=format_month,
        format_percent=format_percent,
        get_locale=get_locale,
        site_name=app.config["SITE_NAME"],
        site_has_logo=site_logo(app.config) is not None,
    )
    app.jinja_env.filters["wrap_tables"] = wrap_tables

    @app.get("/")
    def home() -> Any:
        """Signed in: My learning. Anyone else: what the site is, how to get an
        account, and a few of its courses."""
        if current_user.is_authenticated:
            return redirect("/my")
        courses = catalog.published_courses(db.session())
        return render_template(
            "front.html",
            courses=courses[:FRONT_PAGE_COURSES],
            more_courses=len(courses) > FRONT_PAGE_COURSES,
        )

    @app.get("/site-logo")
    def site_logo_file() -> Any:
        logo = site_logo(app.config)
        if logo is None:
            abort(404)
        path, kind = logo
        response = send_file(path, mimetype=kind, max_age=86400)  # public, a day
        # An SVG opened on its own runs no script and loads nothing.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
        return response

    @app.get("/favicon.ico")
    def favicon() -> Any:
        return redirect(url_for("static", filename="favicon.svg"), 301)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        if request.path.startswith("/api/"):
            return json_error(400, error.description)
        back_to = expired_form_return()
        # The sign-in form's own page already says where to go after it.
        sign_in = (
            back_to
            if urlsplit(back_to).path == "/login"
            else url_for("accounts.login", next=back_to)
        )
        return render_template(
            "errors/csrf.html", reason=error.description, back_to=back_to, sign_in=sign_in
        ), 400

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Any:
        """A rule a view did not turn into a form error itself (such as the
        text checks before every flush, vle.inputs): its message, never a 500."""
        db.session().rollback()
        if request.path.startswith("/api/"):
            return json_error(error.status, str(error.message), error.code)
        title = ERROR_TITLES.get(error.status) or _("Error")
        return render_template(
            "errors/error.html", status=error.status, title=title, message=error.message
        ), error.status

    @app.errorhandler(DBAPIError)
    def database_unavailable(error: DBAPIError) -> Any:
        """The database did not answer (restarting, unreachable, its connection
        cut): 503, to try again in a moment; the pool has dropped the dead
        connections, so a later request gets a new one. Any other database
        error stays a 500."""
        if not (isinstance(error, OperationalError) or error.connection_invalidated):
            raise error
        app.logger.warning("database unavailable: %s", error.orig or error)
        try:
            db.session().rollback()
        except DBAPIError:
            pass  # the connection is gone already
        # The rollback expired the request's user, whom reading again would need
        # the database: the error page, its language and the log line do without.
        g.pop("api_user", None)
        g._login_user = login_manager.anonymous_user()
        message = _("The service is briefly unavailable. Please try again in a moment.")
        headers = {"Retry-After": "5"}
        if request.path.startswith("/api/"):
            response, status = json_error(503, message)
            response.headers.update(headers)
            return response, status
        return (
            render_template(
                "errors/error.html", status=503, title=ERROR_TITLES[503], message=message
            ),
            503,
            headers,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        # The exception's own headers (Allow on a 405, Retry-After, …), but not its body's type.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request.path.startswith("/api/"):
            response, status = json_error(status, error.description or "")
            response.headers.extend(headers)
            return response, status
        title = ERROR_TITLES.get(status) or _("Error")
        return render_template("errors/error.html", status=status, title=title), status, headers
