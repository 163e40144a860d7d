"""Accounts: organisations, users, passwords, sign-in and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from vle.accounts.models import ApiToken, Organisation, Role, User
from vle.errors import Conflict, Invalid, NotFound

TOKEN_PREFIX = "vle_"  # noqa: S105 - a public marker on tokens, not a secret
MIN_PASSWORD_LENGTH = 10
# A hash that never matches: checking unknown emails against it costs the same
# time as a real check, so timing does not reveal which emails exist.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, salted


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(_l("“%(email)s” is not a valid email address.", email=email)) from exc


def organisation_by_code(db_session: Session, code: str) -> Organisation:
    org = db_session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFound(_l("There is no organisation with the code “%(code)s”.", code=code))
    return org


def create_organisation(
    db_session: Session, code: str, name: str, parent_code: str | None = None, kind: str = ""
) -> Organisation:
    """A new organisation, top-level or under `parent_code`. Codes are unique."""
    code = code.strip()
    if not code or not name.strip():
        raise Invalid(_l("An organisation needs a code and a name."))
    if db_session.scalar(select(Organisation.id).where(Organisation.code == code)):
        raise Conflict(_l("The organisation code “%(code)s” is already taken.", code=code))
    parent = organisation_by_code(db_session, parent_code) if parent_code else None
    org = Organisation(code=code, name=name.strip(), kind=kind, parent=parent)
    db_session.add(org)
    db_session.flush()  # the id is part of the path
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    return org


def user_by_email(db_session: Session, email: str) -> User | None:
    return db_session.scalar(select(User).where(User.email == email.strip().lower()))


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    db_session: Session,
    email: str,
    name: str,
    role: str,
    organisation_code: str,
    password: str | None = None,
    network: bool = False,
    locale: str | None = None,
) -> User:
    """A new account. Emails are unique (case-insensitive); only admins have a
    network scope."""
    email = normalise_email(email)
    if role not in set(Role):
        raise Invalid(_l("The role must be learner, trainer or admin."))
    if network and role != Role.ADMIN:
        raise Invalid(_l("Only administrators can have the whole network in scope."))
    if not name.strip():
        raise Invalid(_l("A user needs a name."))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
    if user_by_email(db_session, email):
        raise Conflict(_l("A user with the email %(email)s already exists.", email=email))
    organisation = organisation_by_code(db_session, organisation_code)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation=organisation,
        network=network,
        locale=locale,
        password_hash=hash_password(password) if password else "",
    )
    db_session.add(user)
    db_session.flush()
    return user


def authenticate(db_session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None — the same answer,
    in the same time, for an unknown email and a wrong password."""
    user = user_by_email(db_session, email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def set_locale(user: User, locale: str, languages: tuple[str, ...]) -> None:
    if locale not in languages:
        raise Invalid(_l("Unknown language."))
    user.locale = locale


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db_session: Session, user: User, name: str = "") -> str:
    """A new personal API token for `user`; returns the token, which is stored
    only as a hash and cannot be shown again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db_session.add(ApiToken(user=user, token_hash=_hash_token(token), name=name))
    db_session.flush()
    return token


def user_for_token(db_session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    api_token = db_session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash_token(token))
    )
    if api_token is None or not api_token.user.active:
        return None
    return api_token.user
