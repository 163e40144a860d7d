"""Sign-in, sign-out and the language switcher."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload
from werkzeug.wrappers import Response

from vle import db
from vle.accounts import services
from vle.accounts.forms import LanguageForm, LoginForm
from vle.accounts.models import User
from vle.extensions import limiter, login_manager

bp = Blueprint("accounts", __name__)

LANGUAGE_NAMES = {"en": "English", "lt": "Lietuvių", "pl": "Polski", "nb": "Norsk bokmål"}


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The organisation loads when asked (administrators' pages); a learner's
    # pages never need it, and joining it on every request costs every page.
    user = db.session().scalar(_USER, {"id": int(user_id)})
    return user if user is not None and user.active else None


# Built once, as every request runs it.
_USER = select(User).where(User.id == bindparam("id")).options(lazyload(User.organisation))


login_manager.login_view = "accounts.login"
login_manager.login_message = None  # the login page explains itself


def safe_next(target: str | None, default: str = "/my") -> str:
    """Only same-site paths: an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _login_email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()


def _failed_login(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login)
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login, key_func=_login_email_key)
def login() -> Response | str:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = services.authenticate(db.session(), form.email.data or "", form.password.data or "")
        if user is not None:
            chosen = session.get("locale")
            session.clear()  # a fresh session on sign-in (no fixation)
            if chosen in LANGUAGE_NAMES:
                # A language picked before signing in is kept, and becomes the
                # user's setting if they had none.
                session["locale"] = chosen
                if user.locale is None:
                    services.set_locale(user, chosen, tuple(LANGUAGE_NAMES))
                    db.session().commit()
            login_user(user)
            return redirect(safe_next(form.next.data))
        g.login_failed = True
        form.password.errors.append(_("Wrong email or password."))
    elif request.method == "POST":
        g.login_failed = True
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect("/login")


@bp.post("/language")
def language() -> Response:
    form = LanguageForm()
    form.locale.choices = list(LANGUAGE_NAMES.items())
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            services.set_locale(current_user, form.locale.data, tuple(LANGUAGE_NAMES))
            db.session().commit()
    return redirect(safe_next(form.next.data, default="/"))
