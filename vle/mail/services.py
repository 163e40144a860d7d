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
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vle.db import Base, utcnow
from vle.errors import Invalid
from vle.mail.models import MailDigestChoice, MailOptOut, Notification, OutboxMail

# Where `queue_mail` notes the mails it wrote, for the worker to be told of
# them once the session commits (vle/mail/tasks.py).
QUEUED = "vle.mail.queued"

# What the unsubscribe page calls each kind of notification ("You will get no
# more … by mail"). A floor above that queues a notification of a kind of its
# own adds its words here when it is imported: KIND_LABELS["overdue"] = _l(…).
KIND_LABELS: dict[str, Any] = {
    "course_assigned": _l("courses assigned to you"),
    "due_soon": _l("reminders of a due date near"),
    "overdue": _l("reminders of overdue training"),
    "essay_graded": _l("essays graded"),
    "completion_expiring": _l("completions about to expire"),
    "certificate_issued": _l("certificates issued"),
    "message": _l("messages from your trainers"),
}
# What a person chooses for the mails of each kind (the Notifications page).
MAIL_EACH, MAIL_DIGEST, MAIL_NONE = "each", "digest", "none"

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


def notify(
    db_session: Session,
    *,
    user_id: int,
    to_address: str,
    to_name: str,
    locale: str | None,
    kind: str,
    context: dict[str, Any],
    key: str,
    url: str | None = None,
) -> None:
    """Tell a person of an event: a notification on their home page (its
    title the mail's subject in their language) and the mail `kind`
    (templates/mail/<kind>.*, a notification with one-click unsubscribe),
    unless they stopped that kind's mails, or, when they chose the daily
    digest for it, in the next digest. Once per `key` (a second call with it
    does nothing). Nothing is committed: the caller's transaction is."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"not a mail kind: {kind!r}")
    if not locale or locale not in current_app.config["LANGUAGES"]:
        locale = current_app.config["DEFAULT_LANGUAGE"]
    mode = mail_choice(db_session, to_address, kind)
    subject, _text, _html = render_mail(
        kind, locale, {**context, "to_name": to_name, "unsubscribe_url": None}
    )
    row = _insert_unless_exists(
        db_session,
        Notification,
        ["key"],
        {
            "user_id": user_id,
            "key": key,
            "kind": kind,
            "title": subject,
            "url": url,
            "to_address": to_address,
            "to_name": to_name,
            "locale": locale,
            "digest_pending": mode == MAIL_DIGEST,
            "created_at": utcnow(),
        },
    )
    if row is None or mode != MAIL_EACH:
        return
    queue_mail(
        db_session,
        key=key,
        to_address=to_address,
        to_name=to_name,
        locale=locale,
        kind=kind,
        context=context,
        notification=True,
    )


def mail_choice(db_session: Session, address: str, kind: str) -> str:
    """MAIL_EACH, MAIL_DIGEST or MAIL_NONE: what `address` chose for `kind`."""
    if is_opted_out(db_session, address, kind):
        return MAIL_NONE
    digest = db_session.scalar(
        select(MailDigestChoice.id).where(
            MailDigestChoice.address == address.lower(), MailDigestChoice.kind == kind
        )
    )
    return MAIL_DIGEST if digest is not None else MAIL_EACH


def mail_choices(db_session: Session, address: str) -> dict[str, str]:
    """Every kind of KIND_LABELS → what `address` chose for it."""
    address = address.lower()
    none = set(db_session.scalars(select(MailOptOut.kind).where(MailOptOut.address == address)))
    digest = set(
        db_session.scalars(select(MailDigestChoice.kind).where(MailDigestChoice.address == address))
    )
    return {
        kind: MAIL_NONE if kind in none else MAIL_DIGEST if kind in digest else MAIL_EACH
        for kind in KIND_LABELS
    }


def set_mail_choice(db_session: Session, address: str, kind: str, mode: str) -> None:
    """Record what `address` wants of `kind`'s mails (the one-click opt-out
    records MAIL_NONE in the same place)."""
    if mode not in (MAIL_EACH, MAIL_DIGEST, MAIL_NONE):
        raise Invalid(_l("Choose how you get these mails."))
    address = address.lower()
    if mode == MAIL_NONE:
        opt_out(db_session, address, kind)
    else:
        db_session.execute(
            delete(MailOptOut).where(MailOptOut.address == address, MailOptOut.kind == kind)
        )
    if mode == MAIL_DIGEST:
        _insert_unless_exists(
            db_session,
            MailDigestChoice,
            ["address", "kind"],
            {"address": address, "kind": kind, "created_at": utcnow()},
        )
    else:
        db_session.execute(
            delete(MailDigestChoice).where(
                MailDigestChoice.address == address, MailDigestChoice.kind == kind
            )
        )


def notifications_of(db_session: Session, user_id: int, limit: int = 20) -> list[Notification]:
    """The person's notifications, newest first."""
    return list(
        db_session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(db_session: Session, user_id: int) -> int:
    return (
        db_session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(db_session: Session, user_id: int, ids: list[int] | None = None) -> None:
    """Mark the person's notifications `ids` (all when None) read."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    db_session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )


def queue_digests(db_session: Session) -> int:
    """One mail per address listing its notifications waiting for the digest
    (keyed by its last notification); they wait no more. How many mails."""
    pending = list(
        db_session.scalars(
            select(Notification)
            .where(Notification.digest_pending.is_(True))
            .order_by(Notification.to_address, Notification.created_at, Notification.id)
        )
    )
    by_address: dict[str, list[Notification]] = {}
    for row in pending:
        by_address.setdefault(row.to_address.lower(), []).append(row)
    sent = 0
    for address, rows in by_address.items():
        first = rows[0]
        items = [{"title": row.title, "url": row.url} for row in rows]
        if queue_mail(
            db_session,
            key=f"digest:{address}:{rows[-1].id}",
            to_address=first.to_address,
            to_name=first.to_name,
            locale=first.locale,
            kind="digest",
            context={"items": items, "preferences_url": external_url("mail.preferences")},
        ):
            sent += 1
        for row in rows:
            row.digest_pending = False
    db_session.flush()
    return sent


def forget_address(db_session: Session, address: str) -> None:
    """Erasing a person: the mails to `address` (sent or waiting) and its
    opt-outs are deleted."""
    address = address.lower()
    db_session.execute(delete(OutboxMail).where(func.lower(OutboxMail.to_address) == address))
    db_session.execute(delete(MailOptOut).where(MailOptOut.address == address))
    db_session.execute(delete(MailDigestChoice).where(MailDigestChoice.address == address))
    db_session.execute(delete(Notification).where(func.lower(Notification.to_address) == address))


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
