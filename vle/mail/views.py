"""The unsubscribe link of notification mails (RFC 8058 one-click)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from vle import db
from vle.errors import Invalid
from vle.extensions import csrf
from vle.mail import services

bp = Blueprint("mail", __name__)


def _read(token: str) -> tuple[str, str] | tuple[None, Any]:
    try:
        return services.read_unsubscribe_token(token)
    except Invalid as error:
        return None, error.message


@bp.get("/mail/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    """A person who opens the link sees what it stops and a button: a GET
    changes nothing (mail scanners open links)."""
    address, kind = _read(token)
    if address is None:
        return render_template("mail/pages/unsubscribe_refused.html", message=kind), 400
    return render_template(
        "mail/pages/unsubscribe.html",
        address=address,
        what=services.kind_label(kind),
        done=False,
    )


@bp.post("/mail/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the mail program posts without a session; the link is signed
def unsubscribe(token: str) -> Any:
    """The one-click POST (from the mail program, or the page's button)."""
    address, kind = _read(token)
    if address is None:
        return render_template("mail/pages/unsubscribe_refused.html", message=kind), 400
    db_session = db.session()
    services.opt_out(db_session, address, kind)
    db_session.commit()
    return render_template(
        "mail/pages/unsubscribe.html",
        address=address,
        what=services.kind_label(kind),
        done=True,
    )
