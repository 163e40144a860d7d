"""Passwords people set themselves: Forgotten your password?, invitations to new
accounts, Change password, and the rules a new password must pass.

A reset or an invitation is a link mailed to the person (`password_links`,
only the SHA-256 of its token stored; see `PasswordLink` for why a row rather
than a signed token). It works once, until it expires (PASSWORD_RESET_HOURS,
INVITATION_DAYS), and only while it is the person's newest of its purpose.
Setting a password through it ends every session and API token of the
account; the person then signs in with the new password on the sign-in page
(the link proves the mailbox, the sign-in that the password was typed as
meant — and the sign-in keeps its one way in, with its counters).

Requests for a reset link are counted per address asked for and per client
address in the same database counters as sign-in (`services.reserve_attempts`),
before anything is looked up. The page then queues the request: the worker
looks the address up and mails the link (accounts/tasks.py), so the page's
answer and the time it takes are the same whether or not the address has an
account.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from vle.accounts.models import PasswordLink, User
from vle.accounts.services import (  # the rules live with create_user, named here too
    COMMON_PASSWORDS,  # noqa: F401
    MAX_PASSWORD_LENGTH,  # noqa: F401
    MIN_PASSWORD_LENGTH,  # noqa: F401
    WeakPassword,
    _digest,
    check_password_strength,
    end_access,
    fold_email,
    hash_password,
    require_manages,
    reserve_attempts,
    sign_in_keys,
    user_by_email,
)
from vle.audit import audit
from vle.db import utcnow
from vle.errors import Conflict, DomainError, Invalid
from vle.mail.services import external_url, queue_mail

RESET = "reset"
INVITATION = "invitation"


class WrongPassword(Invalid):
    """The current password, typed to change it, is not the account's."""


class LinkUnusable(DomainError):
    """A reset or invitation link that does not (or no longer) work."""

    code = "gone"
    status = 410


class LinkUnknown(LinkUnusable):
    code = "not_found"
    status = 404


def check_new_password(password: str, user: User) -> None:
    """WeakPassword when `password` does not pass the rules for `user`
    (services.check_password_strength: the one rule, also for passwords an
    administrator sets)."""
    check_password_strength(password, user.email, user.name)


# --- Links -------------------------------------------------------------------------


def _valid_for(purpose: str) -> timedelta:
    config = current_app.config
    if purpose == RESET:
        return timedelta(hours=config["PASSWORD_RESET_HOURS"])
    return timedelta(days=config["INVITATION_DAYS"])


def _void_links(db_session: Session, user: User, purpose: str | None = None) -> None:
    """The unused links of `user` (of `purpose`, or all) stop working."""
    query = update(PasswordLink).where(
        PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None)
    )
    if purpose is not None:
        query = query.where(PasswordLink.purpose == purpose)
    db_session.execute(query.values(used_at=utcnow()).execution_options(synchronize_session=False))


def _issue_link(db_session: Session, user: User, purpose: str) -> tuple[PasswordLink, str]:
    """A new link of `purpose` for `user` (their older ones of that purpose are
    void), and its token: random, shown only in the mail."""
    _void_links(db_session, user, purpose)
    token = secrets.token_urlsafe(32)
    link = PasswordLink(
        purpose=purpose,
        user=user,
        token_hash=_digest(token),
        expires_at=utcnow() + _valid_for(purpose),
    )
    db_session.add(link)
    db_session.flush()
    return link, token


def _mail_link(
    db_session: Session,
    user: User,
    link: PasswordLink,
    token: str,
    locale: str | None,
    context: dict[str, Any],
) -> None:
    endpoint = "accounts.reset_password" if link.purpose == RESET else "accounts.accept_invitation"
    kind = "password_reset" if link.purpose == RESET else "invitation"
    queue_mail(
        db_session,
        key=f"password-link:{link.id}",
        to_address=user.email,
        to_name=user.name,
        locale=user.locale or locale,
        kind=kind,
        context={"url": external_url(endpoint, token=token), **context},
    )


def reserve_reset(db_session: Session, email: str, address: str | None) -> bool:
    """Count a request for a reset link for `email` from client `address`
    (PASSWORD_RESET_LIMIT_PER_EMAIL and _PER_ADDRESS a minute), before anything
    is looked up; False when over a limit. The caller commits."""
    config = current_app.config
    return reserve_attempts(
        db_session,
        [
            ("reset:" + fold_email(email), config["PASSWORD_RESET_LIMIT_PER_EMAIL"]),
            ("reset-from:" + (address or ""), config["PASSWORD_RESET_LIMIT_PER_ADDRESS"]),
        ],
    )


def send_reset_link(
    db_session: Session, email: str, address: str | None = None, locale: str | None = None
) -> bool:
    """Mail a reset link to the active account with this address, in its
    language (`locale`, the page's, when it has none); False, doing nothing,
    when there is none. Run by the worker (accounts/tasks.py), so that the page
    does the same work, in the same time, for any address. The caller commits."""
    user = user_by_email(db_session, email)
    if user is None or not user.active or user.is_erased:
        return False
    link, token = _issue_link(db_session, user, RESET)
    hours = _valid_for(RESET).total_seconds() / 3600
    _mail_link(db_session, user, link, token, locale, {"hours": hours})
    audit(
        db_session, None, "user.password_reset_request", "user", user.id, address,
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    return True


def invite(
    db_session: Session, actor: User | None, user: User, address: str | None = None
) -> PasswordLink:
    """Mail `user` a link to set their own password (a new account, or the
    invitation sent again: the older link stops working). The actor must
    manage the account; it must be active. The caller commits."""
    require_manages(actor, user)
    if user.is_erased or not user.active:
        raise Conflict(
            _l("%(email)s is deactivated: reactivate the account first.", email=user.email)
        )
    link, token = _issue_link(db_session, user, INVITATION)
    days = _valid_for(INVITATION).total_seconds() / 86400
    context = {
        "days": days,
        "organisation": user.organisation.name,
        "inviter": actor.name if actor is not None else None,
    }
    _mail_link(db_session, user, link, token, None, context)
    audit(
        db_session, actor, "user.invite", "user", user.id, address, {"days": days},
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    return link


def latest_invitation(db_session: Session, user: User) -> PasswordLink | None:
    """The newest invitation sent to `user` (its state shows on their page)."""
    return db_session.scalar(
        select(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.purpose == INVITATION)
        .order_by(PasswordLink.created_at.desc(), PasswordLink.id.desc())
        .limit(1)
    )


def usable_link(
    db_session: Session, token: str, purpose: str, now: datetime | None = None
) -> PasswordLink:
    """The link with this token, if it still works; else LinkUnusable saying why
    (unknown, used or voided, expired, or the account deactivated)."""
    link = db_session.scalar(
        select(PasswordLink).where(
            PasswordLink.token_hash == _digest(token), PasswordLink.purpose == purpose
        )
    )
    if link is None:
        raise LinkUnknown(
            _l(
                "This link is not valid. Check that the whole address from the mail "
                "is in your browser's address bar."
            )
        )
    if link.used_at is not None:
        raise LinkUnusable(
            _l(
                "This link has already been used, or a newer one has been sent. "
                "Each link works once."
            )
        )
    if link.expires_at <= (now or utcnow()):
        raise LinkUnusable(_l("This link has expired."))
    if not link.user.active or link.user.is_erased:
        raise LinkUnusable(_l("This account is deactivated. Ask your administrator."))
    return link


def set_password_by_link(
    db_session: Session,
    token: str,
    purpose: str,
    password: str,
    address: str | None = None,
    now: datetime | None = None,
) -> User:
    """Set the password of the link's account: the link must work
    (`usable_link`) and the password pass `check_new_password`. The link is
    used up (one statement, so two tabs cannot both use it), every other link
    voided, every session and API token ended, and "must change" cleared.
    Returns the account. The caller commits."""
    link = usable_link(db_session, token, purpose, now)
    user = link.user
    check_new_password(password, user)
    used = db_session.execute(
        update(PasswordLink)
        .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkUnusable(_l("This link has already been used. Each link works once."))
    _set_password(db_session, user, password)
    action = "user.password_reset" if purpose == RESET else "user.invitation_accept"
    audit(
        db_session, user, action, "user", user.id, address,
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    db_session.flush()
    return user


def _set_password(
    db_session: Session, user: User, password: str, keep_session: str | None = None
) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = False
    _void_links(db_session, user)
    end_access(db_session, user, keep_session=keep_session)


# --- Change password (signed in) ------------------------------------------------------


def reserve_password_check(db_session: Session, user: User, limit: int) -> bool:
    """Count a check of `user`'s current password (Change password) against
    the same per-account count as their sign-in: guessing it here or on the
    sign-in page draws on one allowance. False when over `limit` a minute."""
    account, _client = sign_in_keys(user.email, None)
    return reserve_attempts(db_session, [(account, limit)])


def change_password(
    db_session: Session,
    user: User,
    current: str,
    new: str,
    *,
    session_key: str | None,
    address: str | None = None,
) -> None:
    """The signed-in `user` changes their password: `current` must be theirs
    (WrongPassword) and `new` pass `check_new_password` (WeakPassword). Every
    other session (all but the one with cookie key `session_key`) and every API
    token ends; "must change" is cleared. The caller commits."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise WrongPassword(_l("This is not your current password."))
    check_new_password(new, user)
    if check_password_hash(user.password_hash, new):
        raise WeakPassword(_l("The new password must differ from the current one."))
    _set_password(db_session, user, new, keep_session=session_key)
    audit(
        db_session, user, "user.password_change", "user", user.id, address,
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    db_session.flush()
