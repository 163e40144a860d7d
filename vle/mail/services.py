"""Mail rules: a mail is rendered in its recipient's language and written to
the outbox in the caller's transaction; the worker sends it once that has
committed (vle/mail/tasks.py). Notifications can be stopped per kind through
a signed link, without signing in (RFC 8058)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import escape
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from vle import db
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


@dataclass(frozen=True)
class Scope:
    """How a floor above narrows a kind's unsubscribe link to one thing (a
    forum's posts: that forum's or thread's subscription, not every forum):
    `of_key` names the thing from the mail's key (None: the whole kind);
    `describe(db_session, address, scope)` says what the link stops (None:
    the thing is gone) and `stop(db_session, address, scope)` stops it."""

    of_key: Callable[[str], str | None]
    describe: Callable[[Session, str, str], Any]
    stop: Callable[[Session, str, str], None]


# Kind → its Scope (registered by the floor that queues that kind).
SCOPES: dict[str, Scope] = {}


@dataclass(frozen=True)
class Mail:
    """One mail for `queue_mails`: the arguments of `queue_mail`."""

    key: str
    to_address: str
    to_name: str
    locale: str | None
    kind: str
    context: dict[str, Any]
    notification: bool = False


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
    mail = Mail(key, to_address, to_name, locale, kind, context, notification)
    return queue_mails(db_session, [mail])[0]


def queue_mails(db_session: Session, mails: Sequence[Mail]) -> list[bool]:
    """`queue_mail` for each of `mails`, in a few statements whatever their
    number (the opt-outs and the keys already queued read at once, the rows
    written by one executemany). For each, whether it was queued (a key
    given twice: its first)."""
    return _queue_mails(db_session, mails, _renderer(), {})


def _queue_mails(
    db_session: Session,
    mails: Sequence[Mail],
    renderer: _Renderer,
    rendered: dict[str, tuple[str, str, str]],
) -> list[bool]:
    """`queue_mails`; `rendered`: subject, text and HTML already made, by key."""
    for mail in mails:
        _check_kind(mail.kind)
    stopped = _chosen(
        db_session,
        MailOptOut,
        [(mail.to_address, mail.kind) for mail in mails if mail.notification],
    )
    taken = _existing_keys(db_session, OutboxMail, [mail.key for mail in mails])
    now = utcnow()
    rows: list[dict[str, Any] | None] = []
    for mail in mails:
        if (mail.notification and (mail.to_address.lower(), mail.kind) in stopped) or (
            mail.key in taken
        ):
            rows.append(None)
            continue
        taken.add(mail.key)
        locale = _locale(mail.locale)
        content = rendered.get(mail.key)
        if content is None:
            unsubscribe = (
                unsubscribe_link(mail.to_address, mail.kind, mail.key)
                if mail.notification
                else None
            )
            content = renderer.render(mail.kind, locale, mail.context, mail.to_name, unsubscribe)
        subject, text, html = content
        rows.append(
            {
                "key": mail.key,
                "to_address": mail.to_address,
                "to_name": mail.to_name,
                "locale": locale,
                "kind": mail.kind,
                "subject": subject,
                "text_body": text,
                "html_body": html,
                "notification": mail.notification,
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
            }
        )
    # A row another transaction wrote meanwhile is not written again.
    ids = _insert_keyed(db_session, OutboxMail, [row for row in rows if row is not None])
    queued = [row is not None and row["key"] in ids for row in rows]
    if ids:
        db_session.info.setdefault(QUEUED, []).extend(
            ids[row["key"]] for row in rows if row is not None and row["key"] in ids
        )
    return queued


def _check_kind(kind: str) -> None:
    if not _KIND.fullmatch(kind):
        raise ValueError(f"not a mail kind: {kind!r}")


def _locale(locale: str | None) -> str:
    if not locale or locale not in current_app.config["LANGUAGES"]:
        return str(current_app.config["DEFAULT_LANGUAGE"])
    return locale


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


# Plain values a mail's context is compared by (anything else: rendered alone).
_PLAIN = (str, int, float, bool, type(None), date, datetime, time, timedelta, Decimal)


def _plain(value: Any) -> bool:
    """A plain value, or a tuple of them (a digest's lines)."""
    if isinstance(value, tuple):
        return all(_plain(item) for item in value)
    return isinstance(value, _PLAIN)


_RENDERER: ContextVar[_Renderer | None] = ContextVar("vle.mail.renderer", default=None)


# (kind, language, with an unsubscribe link) → whether putting the name and
# link into one rendering gives what rendering for the person gives: checked
# once per process (the templates do not change while it runs).
_FILLS_LIKE_ALONE: dict[tuple[str, str, bool], bool] = {}


class _Renderer:
    """Renders each mail kind once per language and context: the recipient's
    name and unsubscribe link, the only parts that are per person, are put
    into that rendering for each (escaped in the HTML). Checked once per kind
    and language against a rendering of its own: should a template do more
    with the name than print it, that kind is rendered for each person."""

    LIMIT = 2_000  # renderings kept; then it starts again

    def __init__(self) -> None:
        token = secrets.token_hex(8)  # no course title or name can hold it
        self.name, self.link = f"vle{token}name", f"vle{token}link"
        self.renderings: dict[tuple[Any, ...], tuple[str, str, str]] = {}

    def render(
        self,
        kind: str,
        locale: str,
        context: dict[str, Any],
        to_name: str,
        unsubscribe: str | None,
    ) -> tuple[str, str, str]:
        """What `render_mail` gives for this context and person."""
        whole = {**context, "to_name": to_name, "unsubscribe_url": unsubscribe}
        kind_key = (kind, locale, unsubscribe is not None)
        plain = all(_plain(value) for value in context.values())
        if not plain or not to_name or _FILLS_LIKE_ALONE.get(kind_key) is False:
            return render_mail(kind, locale, whole)
        key = (*kind_key, tuple((n, type(v).__name__, repr(v)) for n, v in sorted(context.items())))
        rendering = self.renderings.get(key)
        if rendering is None:
            if len(self.renderings) >= self.LIMIT:
                self.renderings.clear()
            link = self.link if unsubscribe is not None else None
            rendering = render_mail(
                kind, locale, {**context, "to_name": self.name, "unsubscribe_url": link}
            )
            self.renderings[key] = rendering
        subject, text, html = rendering
        if unsubscribe is not None:
            text = text.replace(self.link, unsubscribe)
            html = html.replace(self.link, str(escape(unsubscribe)))
        mail = (
            subject,
            text.replace(self.name, to_name),
            html.replace(self.name, str(escape(to_name))),
        )
        if kind_key not in _FILLS_LIKE_ALONE:
            alone = render_mail(kind, locale, whole)
            _FILLS_LIKE_ALONE[kind_key] = alone == mail
            return alone
        return mail


def _renderer() -> _Renderer:
    return _RENDERER.get() or _Renderer()


@contextmanager
def rendering_once() -> Iterator[None]:
    """Within the block, `notify_many` and `queue_mails` render each mail kind
    once per language and context, across their calls (the daily reminder
    run: one batch per transaction, the same courses and dates in each). Within
    an outer such block, the outer one's renderings are kept."""
    if _RENDERER.get() is not None:
        yield
        return
    token = _RENDERER.set(_Renderer())
    try:
        yield
    finally:
        _RENDERER.reset(token)


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


def unsubscribe_link(address: str, kind: str, key: str) -> str:
    """The unsubscribe link of the mail `key`: narrowed to one thing when its
    kind has a Scope (see SCOPES), else `unsubscribe_url`."""
    scope = SCOPES[kind].of_key(key) if kind in SCOPES else None
    if scope is None:
        return unsubscribe_url(address, kind)
    token = _unsubscribe_signer().dumps([address.lower(), kind, scope])
    return external_url("mail.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[str, str, str | None]:
    """(address, kind, scope or None) of an unsubscribe link's token, or
    Invalid when it was altered or has expired."""
    try:
        address, kind, *rest = _unsubscribe_signer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE_S)
        if len(rest) > 1 or any(not isinstance(part, str) for part in rest):
            raise ValueError("not a scope")
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
    return str(address), str(kind), (rest[0] if rest else None)


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
    return (address.lower(), kind) in _chosen(db_session, MailOptOut, [(address, kind)])


@dataclass(frozen=True)
class Notice:
    """One notification for `notify_many`: the arguments of `notify`."""

    user_id: int
    to_address: str
    to_name: str
    locale: str | None
    kind: str
    context: dict[str, Any]
    key: str
    url: str | None = None
    # MAIL_EACH or MAIL_DIGEST whatever the person chose for the kind (a
    # forum's subscription says it); a kind they stopped stays stopped.
    mode: str | None = None


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
    notify_many(db_session, [Notice(user_id, to_address, to_name, locale, kind, context, key, url)])


def notify_many(db_session: Session, notices: Sequence[Notice]) -> None:
    """`notify` for each of `notices`, in a few statements whatever their
    number: what each person chose and the keys already used read at once,
    each mail rendered once (its subject is the notification's title), the
    notifications and then the mails written by one executemany each."""
    for notice in notices:
        _check_kind(notice.kind)
    renderer = _renderer()
    modes = _mail_modes(db_session, [(notice.to_address, notice.kind) for notice in notices])
    taken = _existing_keys(db_session, Notification, [notice.key for notice in notices])
    now = utcnow()
    rows, mails, rendered = [], [], {}
    for notice in notices:
        if notice.key in taken:
            continue
        taken.add(notice.key)
        locale = _locale(notice.locale)
        mode = modes[notice.to_address.lower(), notice.kind]
        if notice.mode is not None and mode != MAIL_NONE:
            mode = notice.mode
        # The mail's own rendering (with its unsubscribe link) gives the title.
        unsubscribe = (
            unsubscribe_link(notice.to_address, notice.kind, notice.key)
            if mode == MAIL_EACH
            else None
        )
        content = renderer.render(notice.kind, locale, notice.context, notice.to_name, unsubscribe)
        rows.append(
            {
                "user_id": notice.user_id,
                "key": notice.key,
                "kind": notice.kind,
                "title": content[0],
                "url": notice.url,
                "to_address": notice.to_address,
                "to_name": notice.to_name,
                "locale": locale,
                "digest_pending": mode == MAIL_DIGEST,
                "created_at": now,
            }
        )
        if mode == MAIL_EACH:
            mail = Mail(
                notice.key,
                notice.to_address,
                notice.to_name,
                locale,
                notice.kind,
                notice.context,
                notification=True,
            )
            mails.append(mail)
            rendered[notice.key] = content
    written = _insert_keyed(db_session, Notification, rows)
    _queue_mails(db_session, [mail for mail in mails if mail.key in written], renderer, rendered)


class Person(Protocol):
    """Whom `notify_people` tells (a user: mail sits below accounts)."""

    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def locale(self) -> str | None: ...


NOTICE_CHUNK = 5_000  # people per notify_many in notify_people


def notify_people(
    db_session: Session,
    people: Sequence[tuple[Person, str | None]],
    *,
    kind: str,
    context: dict[str, Any],
    key: str,
    url: str | None = None,
) -> int:
    """Tell each of `people` of one thing (an announcement, a forum post):
    `notify_many` with the same `kind`, `context` and `url` for all, keyed
    `<key>:<user id>`, NOTICE_CHUNK people a call, each language's mail
    rendered once. With each person, the mode their mail goes by (MAIL_EACH,
    MAIL_DIGEST: a subscription says it) or None for what they chose for
    `kind`. How many people."""
    notices = [
        Notice(
            user_id=person.id,
            to_address=person.email,
            to_name=person.name,
            locale=person.locale,
            kind=kind,
            context=context,
            key=f"{key}:{person.id}",
            url=url,
            mode=mode,
        )
        for person, mode in people
    ]
    with rendering_once():
        for start in range(0, len(notices), NOTICE_CHUNK):
            notify_many(db_session, notices[start : start + NOTICE_CHUNK])
    return len(notices)


def mail_choice(db_session: Session, address: str, kind: str) -> str:
    """MAIL_EACH, MAIL_DIGEST or MAIL_NONE: what `address` chose for `kind`."""
    return _mail_modes(db_session, [(address, kind)])[address.lower(), kind]


def _mail_modes(
    db_session: Session, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """`mail_choice` of each (address, kind), keyed by the lower-case address."""
    none = _chosen(db_session, MailOptOut, pairs)
    digest = _chosen(db_session, MailDigestChoice, pairs)
    modes = {}
    for address, kind in pairs:
        pair = (address.lower(), kind)
        modes[pair] = MAIL_NONE if pair in none else MAIL_DIGEST if pair in digest else MAIL_EACH
    return modes


# How many values an IN (…) holds (SQLite allows 32,766 in all).
_IN_CHUNK = 500


def _chosen(
    db_session: Session,
    model: type[MailOptOut] | type[MailDigestChoice],
    pairs: Sequence[tuple[str, str]],
) -> set[tuple[str, str]]:
    """Which of the (address, kind) `pairs` have a row of `model` (an opt-out,
    a digest choice), as (lower-case address, kind)."""
    addresses = sorted({address.lower() for address, _kind in pairs})
    kinds = sorted({kind for _address, kind in pairs})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(addresses), _IN_CHUNK):
        found.update(
            (address, kind)
            for address, kind in db_session.execute(
                select(model.address, model.kind).where(
                    model.address.in_(addresses[start : start + _IN_CHUNK]), model.kind.in_(kinds)
                )
            )
        )
    return found


def _existing_keys(
    db_session: Session, model: type[OutboxMail] | type[Notification], keys: Sequence[str]
) -> set[str]:
    """Which of `keys` a row of `model` has already."""
    unique = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(unique), _IN_CHUNK):
        found.update(
            db_session.scalars(
                select(model.key).where(model.key.in_(unique[start : start + _IN_CHUNK]))
            )
        )
    return found


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


def notifications_of(
    db_session: Session, user_id: int, limit: int = 20, offset: int = 0
) -> list[Notification]:
    """The person's notifications, newest first (`offset`: skipping that many)."""
    return list(
        db_session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
            .offset(offset)
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


# Kind → what puts its notifications under headings in the digest: their
# keys → (heading, subheading), as a forum's posts by forum and thread.
DIGEST_GROUPS: dict[str, Callable[[Session, Sequence[str]], dict[str, tuple[str, str]]]] = {}
# Digest mails queued per statement; notifications marked sent per statement.
DIGEST_BATCH = 2_000
_UPDATE_CHUNK = 5_000


def queue_digests(db_session: Session) -> int:
    """One mail per address listing its notifications waiting for the digest
    (keyed by its last notification), those of a grouped kind under their
    headings; they wait no more. Set-based: one read, the mails written in
    batches (identical digests rendered once), the rows marked in chunks.
    How many mails."""
    pending = db_session.execute(
        select(
            Notification.id,
            Notification.to_address,
            Notification.to_name,
            Notification.locale,
            Notification.kind,
            Notification.key,
            Notification.title,
            Notification.url,
        )
        .where(Notification.digest_pending.is_(True))
        .order_by(Notification.to_address, Notification.created_at, Notification.id)
    ).all()
    groups: dict[str, tuple[str, str]] = {}
    for kind, grouper in DIGEST_GROUPS.items():
        keys = [row.key for row in pending if row.kind == kind]
        if keys:
            groups.update(grouper(db_session, keys))
    by_address: dict[str, list[Any]] = {}
    for row in pending:
        by_address.setdefault(row.to_address.lower(), []).append(row)
    preferences_url = external_url("mail.preferences")
    sent = 0
    mails: list[Mail] = []
    with rendering_once():
        for address, rows in by_address.items():
            sections: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for row in rows:
                if row.key in groups:
                    sections.setdefault(groups[row.key], []).append((row.title, row.url or ""))
            first = rows[0]
            mails.append(
                Mail(
                    key=f"digest:{address}:{rows[-1].id}",
                    to_address=first.to_address,
                    to_name=first.to_name,
                    locale=first.locale,
                    kind="digest",
                    context={
                        "count": len(rows),
                        "items": tuple(
                            (row.title, row.url or "") for row in rows if row.key not in groups
                        ),
                        "sections": tuple(
                            (heading, subheading, tuple(lines))
                            for (heading, subheading), lines in sorted(sections.items())
                        ),
                        "preferences_url": preferences_url,
                    },
                )
            )
            if len(mails) >= DIGEST_BATCH:
                sent += sum(queue_mails(db_session, mails))
                mails = []
        sent += sum(queue_mails(db_session, mails))
    ids = [row.id for row in pending]
    for start in range(0, len(ids), _UPDATE_CHUNK):
        db_session.execute(
            update(Notification)
            .where(Notification.id.in_(ids[start : start + _UPDATE_CHUNK]))
            .values(digest_pending=False)
            .execution_options(synchronize_session=False)
        )
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
    statement = (
        db.insert_unless_exists(db_session, model, keys)
        .values(values)
        .returning(model.__table__.c.id)
    )
    return db_session.execute(statement).scalar()


def _insert_keyed(
    db_session: Session, model: type[OutboxMail] | type[Notification], rows: list[dict[str, Any]]
) -> dict[str, int]:
    """`_insert_unless_exists` for many rows of a model with a unique `key`, in
    one executemany (SQLAlchemy sends it as a few multi-row INSERTs). The new
    rows' ids by key; a key some row had already is not among them."""
    if not rows:
        return {}
    table = cast(Table, model.__table__)
    statement = db.insert_unless_exists(db_session, table, ["key"]).returning(
        table.c.id, table.c.key
    )
    return {key: row_id for row_id, key in db_session.execute(statement, rows)}
