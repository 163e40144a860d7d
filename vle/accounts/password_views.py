"""Pages for passwords people set themselves (accounts/passwords.py holds the
rules): Forgotten your password?, the reset and invitation links' pages,
Change password, and the detour to it that "must change" makes after sign-in.
The routes join the accounts blueprint (imported by the app factory)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from vle import db
from vle.accounts import passwords, tasks
from vle.accounts.forms import ChangePasswordForm, ForgottenPasswordForm, NewPasswordForm
from vle.accounts.views import SESSION_KEY, bp, safe_next
from vle.mail.queue import queue_or_run


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.route("/password/forgotten", methods=["GET", "POST"])
def forgotten_password() -> Any:
    """The same answer, in the same time, whether or not the address has an
    account: the page counts the request and queues it; the worker looks the
    address up and mails the link."""
    form = ForgottenPasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgotten.html", form=form), _status()
    email, address = form.email.data or "", request.remote_addr
    with db.transaction() as db_session:
        allowed = passwords.reserve_reset(db_session, email, address)
    if not allowed:
        form.email.errors.append(
            _("Too many reset links asked for. Please wait a minute and try again.")
        )
        return render_template("accounts/forgotten.html", form=form), 429
    # By the worker; here and now should the queue be out of reach.
    queue_or_run(tasks.mail_reset_link, email, address, str(get_locale()))
    return render_template("accounts/forgotten_sent.html", email=email)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    return _set_password_page(token, passwords.RESET)


@bp.route("/password/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    return _set_password_page(token, passwords.INVITATION)


def _set_password_page(token: str, purpose: str) -> Any:
    db_session = db.session()
    try:
        link = passwords.usable_link(db_session, token, purpose)
    except passwords.LinkUnusable as error:
        return _unusable(error, purpose)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = passwords.set_password_by_link(
                db_session, token, purpose, form.password.data or "", request.remote_addr
            )
        except passwords.WeakPassword as error:
            db_session.rollback()
            form.password.errors.append(error.message)
        except passwords.LinkUnusable as error:  # used meanwhile, in another tab
            db_session.rollback()
            return _unusable(error, purpose)
        else:
            db_session.commit()
            if current_user.is_authenticated and current_user.id == user.id:
                logout_user()  # that session has ended with the others
                session.pop(SESSION_KEY, None)
            flash(_("Your password is set. Log in with it now."), "success")
            return redirect(url_for("accounts.login"))
    return render_template(
        "accounts/set_password.html", form=form, user=link.user, purpose=purpose
    ), _status()


def _unusable(error: passwords.LinkUnusable, purpose: str) -> tuple[str, int]:
    return render_template(
        "accounts/link_unusable.html", message=error.message, purpose=purpose
    ), error.status


@bp.route("/my/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        with db.transaction() as db_session:  # counted even when the password is wrong
            allowed = passwords.reserve_password_check(
                db_session, user, current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"]
            )
        if not allowed:
            abort(429)
        db_session = db.session()
        try:
            passwords.change_password(
                db_session,
                user,
                form.current.data or "",
                form.password.data or "",
                session_key=session.get(SESSION_KEY),
                address=request.remote_addr,
            )
        except passwords.WrongPassword as error:
            db_session.rollback()
            form.current.errors.append(error.message)
        except passwords.WeakPassword as error:
            db_session.rollback()
            form.password.errors.append(error.message)
        else:
            db_session.commit()
            flash(
                _(
                    "Your password has been changed. Every other browser signed in to "
                    "your account is signed out, and your API tokens no longer work."
                ),
                "success",
            )
            return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/change_password.html", form=form), _status()


# Pages a person who must change their password may still reach.
_BEFORE_CHANGE = frozenset(
    {
        "accounts.change_password",
        "accounts.logout",
        "accounts.language",
        "accounts.forgotten_password",
        "accounts.reset_password",
        "accounts.accept_invitation",
        "static",
        "operations.healthz",  # probes: no session, no user loaded
        "operations.readyz",
    }
)


@bp.before_app_request
def _must_change_password() -> Response | None:
    """After signing in to an account marked "must change", every page leads to
    Change password until it is changed (the API, with its tokens, is not a page)."""
    if request.endpoint in _BEFORE_CHANGE or request.path.startswith("/api/"):
        return None
    if "_user_id" not in session:  # nobody signed in: no user to load
        return None
    if not (current_user.is_authenticated and current_user.must_change_password):
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if target in ("/", "/my"):
        target = None
    return redirect(url_for("accounts.change_password", next=target))
