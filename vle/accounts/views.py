"""Sign-in, sign-out and the language switcher."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.wrappers import Response

from vle import db
from vle.accounts import services, sso
from vle.accounts.forms import LanguageForm, LoginForm, TokenForm
from vle.accounts.models import User
from vle.db import utcnow
from vle.errors import NotFound
from vle.extensions import login_manager

bp = Blueprint("accounts", __name__)

LANGUAGE_NAMES = {"en": "English", "lt": "Lietuvių", "pl": "Polski", "nb": "Norsk bokmål"}
# The language last chosen in this browser (the switcher, or the account's at
# sign-in): it outlives the session, so a page after the session has ended
# (an expired form, the sign-in page after Log out) keeps the person's language.
LANGUAGE_COOKIE = "vle_language"
LANGUAGE_COOKIE_DAYS = 365
# Norwegian ("no") and Nynorsk ("nn") readers get Bokmål, the Norwegian there is.
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb"}


def browser_language(accept: LanguageAccept, languages: Iterable[str]) -> str | None:
    """The best of `languages` for the browser's Accept-Language, reading
    `no`, `nn` (and `no-NO`, `nn-NO`) as `nb`."""
    read = [(LANGUAGE_ALIASES.get(re.split("[-_]", tag)[0].lower(), tag), q) for tag, q in accept]
    return LanguageAccept(read).best_match(list(languages))


def remember_language(locale: str) -> None:
    """Keep `locale` in this browser's language cookie (set on this request's response)."""

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            LANGUAGE_COOKIE,
            locale,
            max_age=timedelta(days=LANGUAGE_COOKIE_DAYS),
            secure=current_app.config["SECURE_COOKIES"],
            httponly=True,
            samesite="Lax",
        )
        return response


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user, if the browser's session is still alive on the server."""
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or not user_id.isdigit():
        return None
    config = current_app.config
    user, due = services.session_user(
        db.session(),
        int(user_id),
        key,
        idle=timedelta(hours=config["SESSION_IDLE_HOURS"]),
        lifetime=timedelta(days=config["SESSION_MAX_DAYS"]),
    )
    if user is None:
        # Ended on the server (logged out elsewhere, password changed, idle, too
        # old): the cookie is forgotten and the person asked to sign in again.
        session.pop(SESSION_KEY, None)
        session.pop("_user_id", None)
        flash(_("Your session has ended. Please log in again."), "info")
        return None
    if due is not None:
        with db.bookkeeping() as db_session:
            services.touch_session(db_session, due)
    return user


# The cookie's entry that holds the server-side session's key.
SESSION_KEY = "vle_session"

login_manager.login_view = "accounts.login"
login_manager.login_message = None  # the login page explains itself
# Flask-Login's own "remember me" cookie is never set, and its session
# protection would only repeat what the server-side session does.
login_manager.session_protection = None

# What a browser does to a URL before it follows it (the WHATWG URL standard):
# tabs and line breaks anywhere are dropped, "\\" is read as "/". A `next` that
# holds any control character or backslash is refused whole.
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target: str | None, default: str = "/my") -> str:
    """Only same-site relative paths ("/courses?q=x"): an open redirect would
    help phishing. Anything a browser could read as another site — "//host",
    "/\\t/host", "/\\\\host", "https:…", a leading space — gives `default`."""
    if not target or _UNSAFE_IN_NEXT.search(target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
@db.reads_first  # the password check (scrypt) holds no writer lock
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return _login_page(form, 422 if request.method == "POST" else 200)
    email, password, address = form.email.data or "", form.password.data or "", request.remote_addr
    config = current_app.config
    with db.transaction() as db_session:
        allowed = services.reserve_sign_in(
            db_session,
            email,
            address,
            per_account=config["SIGN_IN_LIMIT_PER_ACCOUNT"],
            per_address=config["SIGN_IN_LIMIT_PER_ADDRESS"],
        )
    if not allowed:
        # Refused before the password is checked, on the form itself: the person
        # can try again from here once the minute has passed.
        return _login_page(
            form,
            429,
            sign_in_error=_("Too many failed attempts. Please wait a minute and try again."),
        )
    try:
        user = services.authenticate(db.session(), email, password)
    except services.AccountDeactivated as error:
        return _login_page(form, 200, sign_in_error=str(error.message), check_fields=False)
    if user is None:
        # The form's error, not the password field's: the address may be the wrong one.
        return _login_page(
            form,
            200,
            sign_in_error=_(
                "Wrong email or password. Check your email address and your password "
                "(capital letters count). If you have forgotten your password, you can "
                "choose a new one."
            ),
            check_fields=True,
        )

    def password_checked(db_session: Session) -> User:
        assert user is not None
        services.sign_in_succeeded(db_session, email, address)
        return user

    sign_in(password_checked)
    return redirect(safe_next(form.next.data))


def _login_page(
    form: LoginForm, status: int, sign_in_error: str = "", check_fields: bool = False
) -> tuple[str, int]:
    """The sign-in form. Once an address is typed whose domain an organisation
    signs in through its own provider, it offers that way in (accounts/oidc.py)."""
    db_session = db.session()
    offer = None
    if request.method == "POST" and form.email.data and not form.email.errors:
        offer = sso.provider_for_email(db_session, form.email.data)  # never a refused address
    return render_template(
        "accounts/login.html",
        form=form,
        sign_in_error=sign_in_error,
        check_fields=check_fields,
        sso_offer=offer,
        sso_any=sso.any_provider(db_session),
    ), status


def sign_in(account: Callable[[Session], User]) -> User:
    """Sign this browser in: one transaction runs `account(db_session)` (what
    the way of signing in records, and the account it signs in) and starts a
    server-side session for it; the cookie then holds only the session's key.
    /login and the organisation's sign-in (/login/sso, accounts/oidc.py) both
    end here. A DomainError from `account` rolls everything back."""
    config = current_app.config
    chosen = session.get("locale")
    with db.transaction() as db_session:
        user = account(db_session)
        services.clear_ended_sessions(
            db_session,
            user,
            idle=timedelta(hours=config["SESSION_IDLE_HOURS"]),
            lifetime=timedelta(days=config["SESSION_MAX_DAYS"]),
        )
        key = services.start_session(db_session, user)
        if chosen in LANGUAGE_NAMES and user.locale is None:
            # A language picked before signing in becomes the user's setting if they had none.
            services.set_locale(user, chosen, tuple(LANGUAGE_NAMES))
            db_session.add(user)
    session.clear()  # a fresh session on sign-in (no fixation)
    if chosen in LANGUAGE_NAMES:
        session["locale"] = chosen
    if user.locale in LANGUAGE_NAMES:
        remember_language(user.locale)
    session[SESSION_KEY] = key
    login_user(user)
    return user


@bp.post("/logout")
@login_required
def logout() -> Response:
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        services.end_session(db.session(), key)
        db.session().commit()
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
        remember_language(form.locale.data)
        if current_user.is_authenticated:
            services.set_locale(current_user, form.locale.data, tuple(LANGUAGE_NAMES))
            db.session().commit()
    return redirect(safe_next(form.next.data, default="/"))


@bp.route("/my/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> tuple[str, int]:
    """The person's own API tokens: each with its expiry and last use, to revoke
    one by one; and a new one, shown once."""
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        db_session = db.session()
        new_token = services.create_token(
            db_session,
            current_user,
            form.name.data or "",
            days=form.days.data,
            actor=current_user,
            address=request.remote_addr,
        )
        db_session.commit()
        form = TokenForm(formdata=None)
    elif request.method == "POST":
        status = 422
    return render_template(
        "accounts/tokens.html",
        form=form,
        new_token=new_token,
        tokens=services.tokens_of(db.session(), current_user),
        now=utcnow(),
    ), status


@bp.post("/my/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    db_session = db.session()
    try:
        services.revoke_token(
            db_session, current_user, current_user, token_id, address=request.remote_addr
        )
    except NotFound:
        abort(404)
    db_session.commit()
    flash(_("The token has been revoked: it no longer works."), "info")
    return redirect(url_for("accounts.tokens"))
