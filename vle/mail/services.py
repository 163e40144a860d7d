"""Mail rules: a mail is rendered in its recipient's language and written to
the outbox in the caller's transaction; the worker sends it once that has
committed (vle/mail/tasks.py). Notifications can be stopped per kind through
a signed link, without signing in (RFC 8058)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vle.db import Base, utcnow
from vle.errors import Invalid
from vle.mail.models import MailOptOut, OutboxMail

# Where `queue_mail` notes the mails it wrote, for the worker to be told of
# them once the session commits (vle/mail/tasks.py).
QUEUED = "vle.mail.queued"

# What the unsubscribe page calls each kind of notification ("You will get no
# more … by mail"). A floor above that queues a notification of a kind of its
# own adds its words here when it is imported: KIND_LABELS["overdue"] = _l(…).
KIND_LABELS: dict[str, Any] = {
    "message": _l("messages from your trainers"),
}
_ANY_KIND = _l("these notifications")

# How long an unsubscribe link works: a mail may be read months after it came.
UNSUBSCRIBE_MAX_AGE_S = 180 * 24 * 3600
_KIND = re.compile(r"[a-z][a-z0-9_]{0,49}")


def queue_mail(
    db_session: Session,
    *,
    key: str,
    to_address: str,
    to_name: str,
    locale: str | None,
    kind: str,
    context: dict[str, Any],
    notification: bool = False,
) -> bool:
    """Render the mail `kind` in `locale` (the app's default language when
    None or unknown) and write it to the outbox in `db_session`, without
    committing: it is sent once the caller commits, never if it rolls back.

    The templates are `templates/mail/<kind>.txt` and `.html`, each extending
    the `base` of that folder; the subject is the `subject` block of the .txt.
    They see `context` and `to_name`, `unsubscribe_url` (notifications only)
    and `base_url`. Returns False, writing nothing, when a mail with this `key`
    was queued before (so a retried request never mails twice) and when the
    address has stopped notifications of this kind."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"not a mail kind: {kind!r}")
    if notification and is_opted_out(db_session, to_address, kind):
        return False
    if db_session.scalar(select(OutboxMail.id).where(OutboxMail.key == key)) is not None:
        return False
    if not locale or locale not in current_app.config["LANGUAGES"]:
        locale = current_app.config["DEFAULT_LANGUAGE"]
    unsubscribe = unsubscribe_url(to_address, kind) if notification else None
    subject, text, html = render_mail(
        kind, locale, {**context, "to_name": to_name, "unsubscribe_url": unsubscribe}
    )
    now = utcnow()
    mail_id = _insert_unless_exists(
        db_session,
        OutboxMail,
        ["key"],
        {
            "key": key,
            "to_address": to_address,
            "to_name": to_name,
            "locale": locale,
            "kind": kind,
            "subject": subject,
            "text_body": text,
            "html_body": html,
            "notification": notification,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        },
    )
    if mail_id is None:  # queued meanwhile by another transaction
        return False
    db_session.info.setdefault(QUEUED, []).append(mail_id)
    return True


def render_mail(kind: str, locale: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """The subject, plain text and HTML of mail `kind` in `locale`."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    values = {**context, "base_url": app.config["BASE_URL"].rstrip("/")}
    # An app context of its own: the caller's request may have cached its
    # own language's translations and formats in `g`.
    with app.app_context(), force_locale(locale):
        # Nobody is signed in to a mail: it reads the same from a request as
        # from the worker. (Else the templates' context processor would load
        # the request's user again, in a session of this context's own, which
        # on SQLite waits for the writer lock the caller's transaction holds.)
        g._login_user = app.login_manager.anonymous_user()
        template = app.jinja_env.get_template(f"mail/{kind}.txt")
        block_context = dict(values)
        app.update_template_context(block_context)
        subject_parts = template.blocks["subject"](template.new_context(block_context))
        subject = " ".join("".join(subject_parts).split())[:300]
        text = render_template(template, **values)
        html = render_template(f"mail/{kind}.html", **values, mail_subject=subject)
    return subject, text.strip() + "\n", html


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of `endpoint` on the public site (`VLE_BASE_URL`),
    for links in mails: built without a request, the same from the worker."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _unsubscribe_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="vle.mail.unsubscribe")


def unsubscribe_url(address: str, kind: str) -> str:
    """A signed link that stops notifications of `kind` to `address`."""
    token = _unsubscribe_signer().dumps([address.lower(), kind])
    return external_url("mail.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(address, kind) of an unsubscribe link's token, or Invalid when it
    was altered or has expired."""
    try:
        address, kind = _unsubscribe_signer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE_S)
    except SignatureExpired:
        raise Invalid(
            _l("This unsubscribe link has expired. Use the link in a more recent mail.")
        ) from None
    except (BadSignature, TypeError, ValueError):
        raise Invalid(
            _l(
                "This unsubscribe link is not valid. Open it from the mail again, "
                "or copy the whole link."
            )
        ) from None
    return str(address), str(kind)


def kind_label(kind: str) -> Any:
    return KIND_LABELS.get(kind, _ANY_KIND)


def opt_out(db_session: Session, address: str, kind: str) -> None:
    """No more notifications of `kind` to `address` (asking twice is fine)."""
    _insert_unless_exists(
        db_session,
        MailOptOut,
        ["address", "kind"],
        {"address": address.lower(), "kind": kind, "created_at": utcnow()},
    )


def is_opted_out(db_session: Session, address: str, kind: str) -> bool:
    found = db_session.scalar(
        select(MailOptOut.id).where(MailOptOut.address == address.lower(), MailOptOut.kind == kind)
    )
    return found is not None


def forget_address(db_session: Session, address: str) -> None:
    """Erasing a person: the mails to `address` (sent or waiting) and its
    opt-outs are deleted."""
    address = address.lower()
    db_session.execute(delete(OutboxMail).where(func.lower(OutboxMail.to_address) == address))
    db_session.execute(delete(MailOptOut).where(MailOptOut.address == address))


def _insert_unless_exists(
    db_session: Session, model: type[Base], keys: list[str], values: dict[str, Any]
) -> int | None:
    """INSERT the row unless one with the same unique `keys` exists: one
    statement, so two transactions inserting it at once do not collide (the
    second finds it there, even on PostgreSQL). Returns the new row's id, or
    None when it existed."""
    dialect = db_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(model.__table__.c.id)
    )
    return db_session.execute(statement).scalar()
