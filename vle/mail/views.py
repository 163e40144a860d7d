"""The unsubscribe link of notification mails (RFC 8058 one-click), the
person's notifications (read once seen), their preferences, and marking
notifications read."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from vle import db
from vle.errors import Invalid
from vle.extensions import csrf
from vle.mail import services

bp = Blueprint("mail", __name__)


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    """`unread_notifications()` for the navigation: counted only when asked."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(db.session(), current_user.id)

    return {"unread_notifications": unread_notifications}


# Pages of notifications past this one are not offered (nor kept in mind).
LAST_PAGE = 1000


@bp.get("/my/notifications/all")
@login_required
def notifications() -> Any:
    """The person's notifications, newest first, a page at a time ("Older"
    leads to the ones before). Opening the page marks the ones it shows read:
    the navigation then counts only those not seen yet, and this page still
    shows them as new this once.

    A GET that writes, on purpose: it marks only the viewer's own
    notifications (the user id is the session's, never a parameter), and only
    those this page shows, and marking read what is read changes nothing, so
    opening it again, reloading it or a cross-site link to it can do no more
    than the person's own look would. It changes no record anyone else sees
    and no choice of the person's, so it needs no CSRF token."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 0
    if not 1 <= page <= LAST_PAGE:
        abort(404)
    size = current_app.config["PAGE_SIZE"]
    rows = services.notifications_of(
        db.session(), current_user.id, limit=size + 1, offset=(page - 1) * size
    )
    if page > 1 and not rows:
        abort(404)
    older = len(rows) > size and page < LAST_PAGE
    rows = rows[:size]
    unseen = {row.id for row in rows if row.read_at is None}
    if unseen:
        # The rows keep what they were when read: "new" on this page, once.
        with db.transaction() as db_session:
            services.mark_read(db_session, current_user.id, sorted(unseen))
    return render_template(
        "mail/pages/notifications.html",
        notifications=rows,
        unseen=unseen,
        page=page,
        older=older,
    )


@bp.route("/my/notifications", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    """Which mails the person gets, per kind: each one, a daily digest, none."""
    db_session = db.session()
    choices = services.mail_choices(db_session, current_user.email)
    if request.method == "POST":  # CSRF checked by CSRFProtect
        wanted = {}
        for kind in services.KIND_LABELS:
            mode = request.form.get(f"kind-{kind}", services.MAIL_EACH)
            if mode not in (services.MAIL_EACH, services.MAIL_DIGEST, services.MAIL_NONE):
                abort(400)
            wanted[kind] = mode
        for kind, mode in wanted.items():
            if choices.get(kind) != mode:
                services.set_mail_choice(db_session, current_user.email, kind, mode)
        db_session.commit()
        flash(_("Your notification preferences are saved."), "success")
        return redirect(url_for("mail.preferences"))
    return render_template(
        "mail/pages/preferences.html",
        choices=choices,
        labels=services.KIND_LABELS,
        modes=[
            (services.MAIL_EACH, _("A mail each time")),
            (services.MAIL_DIGEST, _("In the daily digest")),
            (services.MAIL_NONE, _("No mail")),
        ],
    )


@bp.post("/my/notifications/read")
@login_required
def mark_read() -> Any:
    """Mark one notification (`id`) or all of them read without opening them;
    back to My learning."""
    raw = request.form.get("id")
    ids: list[int] | None = None
    if raw:
        if not raw.isdigit():
            abort(400)
        ids = [int(raw)]
    db_session = db.session()
    services.mark_read(db_session, current_user.id, ids)
    db_session.commit()
    return redirect(url_for("learning.my_learning") + "#notifications")


def _read(token: str) -> tuple[str, str, str | None] | tuple[None, Any, None]:
    try:
        return services.read_unsubscribe_token(token)
    except Invalid as error:
        return None, error.message, None


def _refused(message: Any) -> Any:
    return render_template("mail/pages/unsubscribe_refused.html", message=message), 400


def _what(address: str, kind: str, scope: str | None) -> Any:
    """What the link stops; None when its scoped thing is gone."""
    if scope is None:
        return services.kind_label(kind)
    handler = services.SCOPES.get(kind)
    return handler.describe(db.session(), address, scope) if handler else None


_GONE = _l("What this link unsubscribes you from no longer exists.")


@bp.get("/mail/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    """A person who opens the link sees what it stops and a button: a GET
    changes nothing (mail scanners open links)."""
    address, kind, scope = _read(token)
    if address is None:
        return _refused(kind)
    what = _what(address, kind, scope)
    if what is None:
        return _refused(_GONE)
    return render_template("mail/pages/unsubscribe.html", address=address, what=what, done=False)


@bp.post("/mail/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the mail program posts without a session; the link is signed
def unsubscribe(token: str) -> Any:
    """The one-click POST (from the mail program, or the page's button): a
    scoped link stops only its thing (a forum's subscription), else the kind."""
    address, kind, scope = _read(token)
    if address is None:
        return _refused(kind)
    what = _what(address, kind, scope)
    if what is None:
        return _refused(_GONE)
    db_session = db.session()
    if scope is None:
        services.opt_out(db_session, address, kind)
    else:
        services.SCOPES[kind].stop(db_session, address, scope)
    db_session.commit()
    return render_template("mail/pages/unsubscribe.html", address=address, what=what, done=True)
