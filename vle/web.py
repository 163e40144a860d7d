"""What every page shares: template globals, error pages, the home page."""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, render_template, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from vle.accounts.forms import LanguageForm
from vle.accounts.views import LANGUAGE_NAMES
from vle.errors import json_error

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("File too large"),
    429: _l("Too many attempts"),
}


def _language_form() -> LanguageForm:
    form = LanguageForm(formdata=None)
    form.locale.choices = list(LANGUAGE_NAMES.items())
    form.locale.data = str(get_locale())
    form.next.data = request.full_path.rstrip("?")
    return form


def register_web(app: Flask) -> None:
    app.jinja_env.globals.update(
        language_form=_language_form,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        get_locale=get_locale,
    )

    @app.get("/")
    def home() -> Any:
        return redirect("/my" if current_user.is_authenticated else "/courses")

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        if request.path.startswith("/api/"):
            return json_error(400, error.description)
        return render_template("errors/csrf.html", reason=error.description), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if request.path.startswith("/api/"):
            return json_error(status, error.description or "")
        return render_template(
            "errors/error.html", status=status, title=ERROR_TITLES.get(status) or _("Error")
        ), status
