"""Accounts: organisations, users, passwords, sign-in and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from confusable_homoglyphs import categories, confusables
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from vle.accounts.models import ApiToken, Organisation, Role, SignInCounter, User, UserSession
from vle.audit import audit, forget_subject
from vle.db import utcnow
from vle.errors import Conflict, Forbidden, Invalid, NotFound
from vle.mail.services import forget_address

TOKEN_PREFIX = "vle_"  # noqa: S105 - a public marker on tokens, not a secret  # nosec B105
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000

# Passwords of ten characters or more that lead every list of leaked ones (and
# their local cousins: "slaptažodis", "hasło", "passord" are "password").
# Compared case-insensitively; a short list, not a dictionary.
COMMON_PASSWORDS = frozenset(
    {
        "0123456789",
        "1234567890",
        "12345678910",
        "123456789a",
        "123123123123",
        "0987654321",
        "1111111111",
        "0000000000",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "asdfghjkl1",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou12",
        "iloveyou123",
        "letmein123",
        "welcome123",
        "welcome1234",
        "abcdefghij",
        "abcd123456",
        "administrator",
        "changeme123",
        "football123",
        "slaptazodis",
        "slaptažodis",
        "slaptazodis1",
        "haslo12345",
        "hasło12345",
        "passord123",
        "passord1234",
        "sommer2024",
        "vasara2024",
    }
)
# A hash that never matches: checking unknown emails against it costs the same
# time as a real check, so timing does not reveal which emails exist.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, salted


class WeakPassword(Invalid):
    """A new password that does not pass the rules: the message says why."""


def check_password_strength(password: str, email: str, name: str) -> None:
    """The one rule for every new password, whoever sets it (the person through
    a link or Change password, an administrator on the account form, in a users
    file or with `vle users`): WeakPassword when it is too short or too long,
    the account's e-mail address (or its local part) or its name (whatever the
    case or spacing), or one of the most common passwords."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            _l("A password can have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
        )
    folded = "".join(fold_email(password).split())
    email = fold_email(email)
    local_part = email.split("@", 1)[0]
    if folded in (email, local_part):
        raise WeakPassword(_l("The password must not be your email address."))
    if folded == "".join(name.casefold().split()):
        raise WeakPassword(_l("The password must not be your name."))
    if folded in COMMON_PASSWORDS:
        raise WeakPassword(
            _l(
                "This is one of the most common passwords, the first that anyone tries. Choose another."
            )
        )


def fold_email(email: str) -> str:
    """An address in the form vle stores and looks it up: NFKC (full-width
    "ｊｏｎａｓ＠…" is "jonas@…"), trimmed, lower-case. Sign-in and every
    lookup fold what was typed, so any case or width variant finds the account."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def normalise_email(email: str) -> str:
    try:
        return validate_email(fold_email(email), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(_l("“%(email)s” is not a valid email address.", email=email)) from exc


_LATIN = ("LATIN", "COMMON")


def latin_look_alike(email: str) -> str | None:
    """The address `email` reads as, if it holds letters of another script that
    look like Latin ones (Cyrillic "а", Greek "ο"): each replaced by the Latin
    letter it mimics (Unicode's confusables). None when it holds no such letter.
    Latin letters with their accents (ė, ł, ø) are Latin and stay."""
    if email.isascii():  # the common case, and nothing but Latin letters
        return None
    found = confusables.is_confusable(email, greedy=True, preferred_aliases=list(_LATIN)) or []
    swaps = {}
    for entry in found:
        for glyph in entry["homoglyphs"]:
            if all(categories.alias(char) in _LATIN for char in glyph["c"]):
                swaps[entry["character"]] = glyph["c"]
                break
    if not swaps:
        return None
    return "".join(swaps.get(char, char) for char in email).lower()


def refuse_look_alike(db_session: Session, email: str, user: User | None = None) -> None:
    """Refuse a (normalised) address that looks like another account's: the
    same letters in another script would make a second account that reads
    exactly like the first, in lists, reports and mails."""
    look_alike = latin_look_alike(email)
    if look_alike is None:
        return
    other = user_by_email(db_session, look_alike)
    if other is not None and other is not user:
        raise Conflict(look_alike_message(email))


def look_alike_message(email: str) -> str:
    return _l(
        "The email %(email)s looks like the address of another account (letters of "
        "another alphabet that look like Latin ones). Type it with Latin letters.",
        email=email,
    )


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
    return db_session.scalar(select(User).where(User.email == fold_email(email)))


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
    password_hash: str | None = None,
) -> User:
    """A new account. Emails are unique (case-insensitive); only admins have a
    network scope. `password_hash`: a password already checked and hashed (a
    users file waiting for confirmation keeps no password in plain text)."""
    email = normalise_email(email)
    if role not in set(Role):
        raise Invalid(_l("The role must be learner, trainer or admin."))
    if network and role != Role.ADMIN:
        raise Invalid(_l("Only administrators can have the whole network in scope."))
    if not name.strip():
        raise Invalid(_l("A user needs a name."))
    if password is not None:  # an administrator's choice passes the person's own rules
        check_password_strength(password, email, name.strip())
    if user_by_email(db_session, email):
        raise Conflict(_l("A user with the email %(email)s already exists.", email=email))
    refuse_look_alike(db_session, email)
    organisation = organisation_by_code(db_session, organisation_code)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation=organisation,
        network=network,
        locale=locale,
        password_hash=hash_password(password) if password else password_hash or "",
    )
    db_session.add(user)
    db_session.flush()
    return user


class AccountDeactivated(Forbidden):
    """The right password for an account an administrator has deactivated."""


def authenticate(db_session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None — the same answer,
    in the same time, for an unknown email, a wrong password and a wrong
    password for a deactivated account. Only someone who knows a deactivated
    account's password learns that it is deactivated (AccountDeactivated)."""
    user = user_by_email(db_session, email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        raise AccountDeactivated(
            _l(
                "Your account has been deactivated. Please contact your organisation's "
                "administrator if you still need it."
            )
        )
    return user


def set_locale(user: User, locale: str, languages: tuple[str, ...]) -> None:
    if locale not in languages:
        raise Invalid(_l("Unknown language."))
    user.locale = locale


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- Sessions, API tokens and sign-in limits -------------------------------------
#
# A session or a token is only ever stored as the SHA-256 of its secret. Both
# end on the server: at Log out (one session), and for every session and token
# of an account when its password changes or it is deactivated (`end_access`).

# When a session was last seen and a token last used is written at most this often
# (a write of its own; pages that only read stay free of writes in between).
SEEN_EVERY = timedelta(minutes=1)
# A new personal API token works this many days unless revoked before.
TOKEN_DAYS = 365


def start_session(db_session: Session, user: User) -> str:
    """A new server-side session for `user`; returns the key for the browser's
    cookie. Sessions of theirs that have ended on their own are cleared out."""
    key = secrets.token_urlsafe(32)
    db_session.add(UserSession(user_id=user.id, key_hash=_digest(key)))
    db_session.flush()
    return key


# Built once: every signed-in request runs it. The organisation loads when asked
# (administrators' pages); a learner's pages never need it.
_SESSION_USER = (
    select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.key_hash == bindparam("key_hash"), User.id == bindparam("user_id"))
    .options(lazyload(User.organisation))
)


def session_user(
    db_session: Session,
    user_id: int,
    key: str,
    idle: timedelta,
    lifetime: timedelta,
    now: datetime | None = None,
) -> tuple[User | None, int | None]:
    """The active user of the session with this cookie `key`, or None when the
    session has ended: logged out, ended by a password change or deactivation,
    idle for longer than `idle` or older than `lifetime`. Second: the session's
    id when its last-seen time is due to be written (`touch_session`), else None."""
    row = db_session.execute(_SESSION_USER, {"key_hash": _digest(key), "user_id": user_id}).first()
    if row is None:
        return None, None
    user, session_id, created_at, last_seen_at = row
    now = now or utcnow()
    if not user.active or now - last_seen_at > idle or now - created_at > lifetime:
        return None, None
    return user, session_id if now - last_seen_at >= SEEN_EVERY else None


def touch_session(db_session: Session, session_id: int, now: datetime | None = None) -> None:
    db_session.execute(
        update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now or utcnow())
    )


def end_session(db_session: Session, key: str) -> None:
    """Log out: the session with this cookie key ends on the server."""
    db_session.execute(delete(UserSession).where(UserSession.key_hash == _digest(key)))


def clear_ended_sessions(
    db_session: Session, user: User, idle: timedelta, lifetime: timedelta
) -> None:
    now = utcnow()
    db_session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            (UserSession.last_seen_at < now - idle) | (UserSession.created_at < now - lifetime),
        )
    )


def end_access(db_session: Session, user: User, keep_session: str | None = None) -> None:
    """Every session and API token of `user` ends: their password changed, or
    the account was deactivated or erased. Reactivating brings none back.
    `keep_session`: the cookie key of the one session that stays (the person
    changing their own password keeps the browser they did it in)."""
    sessions = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_session is not None:
        sessions = sessions.where(UserSession.key_hash != _digest(keep_session))
    db_session.execute(sessions)
    db_session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))


def create_token(
    db_session: Session,
    user: User,
    name: str = "",
    days: int = TOKEN_DAYS,
    actor: User | None = None,
    address: str | None = None,
) -> str:
    """A new personal API token for `user`, valid for `days`; returns the token,
    which is stored only as a hash and cannot be shown again."""
    name = name.strip()
    if len(name) > 100:
        raise Invalid(_l("A token's name can have at most %(n)d characters.", n=100))
    if not 1 <= days <= 3650:
        raise Invalid(_l("A token is valid for 1 to %(n)d days.", n=3650))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken(
        user=user, token_hash=_digest(token), name=name, expires_at=utcnow() + timedelta(days=days)
    )
    db_session.add(api_token)
    db_session.flush()
    audit(
        db_session, actor, "token.create", "user", user.id,
        address, {"token": api_token.id, "days": days}, organisation_id=user.organisation_id,
        label=user.email,
    )  # fmt: skip
    return token


def token_for(db_session: Session, token: str, now: datetime | None = None) -> ApiToken | None:
    """The unexpired token of an active user with this secret, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    api_token = db_session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if api_token is None or not api_token.user.active:
        return None
    if api_token.expires_at <= (now or utcnow()):
        return None
    return api_token


def user_for_token(db_session: Session, token: str) -> User | None:
    """The active user an unexpired bearer token belongs to, or None."""
    api_token = token_for(db_session, token)
    return api_token.user if api_token is not None else None


def token_use_due(api_token: ApiToken, now: datetime | None = None) -> bool:
    """Is the token's last use due to be written (`record_token_use`)?"""
    last = api_token.last_used_at
    return last is None or (now or utcnow()) - last >= SEEN_EVERY


def record_token_use(db_session: Session, token_id: int, now: datetime | None = None) -> None:
    db_session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now or utcnow())
    )


def tokens_of(db_session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (expired ones too, marked so by their date)."""
    return list(
        db_session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(
    db_session: Session,
    actor: User | None,
    owner: User,
    token_id: int,
    address: str | None = None,
) -> None:
    """The token stops working at once. Its owner revokes their own; an
    administrator, the tokens of accounts they manage."""
    if actor is not None and actor.id != owner.id:
        require_manages(actor, owner)
    api_token = db_session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == owner.id)
    )
    if api_token is None:
        raise NotFound(_l("There is no such token."))
    db_session.delete(api_token)
    audit(
        db_session, actor, "token.revoke", "user", owner.id, address, {"token": token_id},
        organisation_id=owner.organisation_id, label=owner.email,
    )  # fmt: skip
    db_session.flush()


WINDOW_S = 60  # sign-in limits are per minute


def _counter_upsert(insert: Any) -> Any:
    """One atomic statement: count an attempt for a key in the current window,
    moving the window on (the current count becoming the previous one) when a
    new minute has begun; returns the counts. Concurrent attempts queue on the
    row, so none is missed (a read-then-write would let parallel tries through)."""
    statement = insert(SignInCounter).values(
        key=bindparam("key"), window=bindparam("window"), count=1, previous=0
    )
    new = statement.excluded.window
    current = SignInCounter.window >= new  # a server's clock a little behind counts here too
    last = SignInCounter.window == new - WINDOW_S
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "count": case((current, SignInCounter.count + 1), else_=1),
            "previous": case(
                (current, SignInCounter.previous), (last, SignInCounter.count), else_=0
            ),
            "window": case((current, SignInCounter.window), else_=new),
        },
    ).returning(SignInCounter.window, SignInCounter.count, SignInCounter.previous)


_COUNTER_UPSERT = {
    "sqlite": _counter_upsert(sqlite.insert),
    "postgresql": _counter_upsert(postgresql.insert),
}


def sign_in_keys(email: str, address: str | None) -> tuple[str, str]:
    """The counters' keys: the account as it would be looked up (case, spacing
    and width variants of one e-mail are one key) and the client address."""
    return "account:" + fold_email(email), "address:" + (address or "")


def reserve_attempts(
    db_session: Session, limits: Sequence[tuple[str, int]], now: float | None = None
) -> bool:
    """Count one attempt against each (key, limit a minute) of `limits`, in the
    shared counters, before the attempt's work is done; False when any key is
    over its limit: the attempt is refused. A sliding window: the previous
    minute's count weighs as much of it as still overlaps the last 60 seconds.
    Sign-in, password reset requests and Change password all count here, each
    with keys of its own."""
    now = time.time() if now is None else now
    window = int(now) - int(now) % WINDOW_S
    statement = _COUNTER_UPSERT[db_session.get_bind().dialect.name]
    db_session.execute(delete(SignInCounter).where(SignInCounter.window < window - 2 * WINDOW_S))
    allowed = True
    for key, limit in limits:
        start, count, previous = db_session.execute(statement, {"key": key, "window": window}).one()
        overlap = max(0.0, 1 - (now - start) / WINDOW_S)
        if count + previous * overlap > limit:
            allowed = False
    return allowed


def reserve_sign_in(
    db_session: Session,
    email: str,
    address: str | None,
    per_account: int,
    per_address: int,
    now: float | None = None,
) -> bool:
    """Count a sign-in attempt before its password is checked, against the
    account (`per_account` a minute) and the client address (`per_address`);
    False when either is over its limit: the attempt is refused unchecked.
    `sign_in_succeeded` gives the attempt back."""
    account, client = sign_in_keys(email, address)
    return reserve_attempts(db_session, [(account, per_account), (client, per_address)], now)


def sign_in_succeeded(db_session: Session, email: str, address: str | None) -> None:
    """A successful sign-in clears its account's count (whoever knows the
    password gains nothing by guessing) and gives its address the attempt
    back: a training room signing in together never reaches its limit."""
    account, client = sign_in_keys(email, address)
    db_session.execute(delete(SignInCounter).where(SignInCounter.key == account))
    db_session.execute(
        update(SignInCounter)
        .where(SignInCounter.key == client, SignInCounter.count > 0)
        .values(count=SignInCounter.count - 1)
    )


# --- Administration: organisations and users, scoped and audited -----------------
#
# These take the acting administrator (`actor`; None for the command line, which
# has the whole network in scope) and the client `address`, check the actor's
# scope for every organisation involved, and write an audit entry. The views
# check the object they load first; these check where it goes.


def require_scope(actor: User | None, organisation: Organisation) -> None:
    if actor is not None and not actor.administers(organisation):
        raise Forbidden(
            _l("The organisation “%(code)s” is outside your scope.", code=organisation.code)
        )


def require_manages(actor: User | None, user: User) -> None:
    if actor is not None and not actor.manages(user):
        raise Forbidden(_l("This account is outside your scope."))


def organisations_in_scope(db_session: Session, actor: User | None) -> list[Organisation]:
    """The organisations `actor` administers, as a tree: parents before their
    children, siblings by name (one query)."""
    query = select(Organisation)
    if actor is not None and not actor.network:
        query = query.where(Organisation.path.startswith(actor.organisation.path))
    return [org for org, _depth in tree_order(list(db_session.scalars(query)))]


def tree_order(organisations: list[Organisation]) -> list[tuple[Organisation, int]]:
    """(organisation, depth) pairs in tree order; depth 0 for the top of the list."""
    ids = {org.id for org in organisations}
    children: dict[int | None, list[Organisation]] = {}
    for org in organisations:
        parent = org.parent_id if org.parent_id in ids else None
        children.setdefault(parent, []).append(org)
    ordered: list[tuple[Organisation, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for org in sorted(children.get(parent, []), key=lambda o: (o.name.casefold(), o.code)):
            ordered.append((org, depth))
            walk(org.id, depth + 1)

    walk(None, 0)
    return ordered


def add_organisation(
    db_session: Session,
    actor: User | None,
    *,
    code: str,
    name: str,
    kind: str = "",
    parent_code: str | None = None,
    address: str | None = None,
) -> Organisation:
    """An administrator creates an organisation under one in their scope; only
    network administrators create top-level organisations."""
    if parent_code:
        require_scope(actor, organisation_by_code(db_session, parent_code))
    elif actor is not None and not actor.network:
        raise Forbidden(_l("Only network administrators create top-level organisations."))
    org = create_organisation(db_session, code, name, parent_code or None, kind.strip())
    audit(
        db_session, actor, "organisation.create", "organisation", org.id, address,
        {"parent": parent_code or None}, organisation_id=org.id, label=org.code,
    )  # fmt: skip
    return org


def move_organisation(db_session: Session, org: Organisation, parent: Organisation | None) -> None:
    """Put `org` (with its whole subtree) under `parent` (None: top level). Every
    descendant's `path` is rewritten by one UPDATE, whatever the subtree's size."""
    if parent is not None and org.contains(parent):
        raise Invalid(
            _l("An organisation cannot move under itself or one of its own sub-organisations.")
        )
    old_path = org.path
    new_path = f"{parent.path if parent else '/'}{org.id}/"
    org.parent_id = parent.id if parent else None
    org.parent = parent
    if new_path == old_path:
        return
    db_session.flush()
    # Paths hold only digits and slashes, so the prefix match needs no escaping.
    db_session.execute(
        update(Organisation)
        .where(Organisation.path.startswith(old_path))
        .values(path=literal(new_path) + func.substr(Organisation.path, len(old_path) + 1))
        .execution_options(synchronize_session="fetch")
    )


def update_organisation(
    db_session: Session,
    actor: User | None,
    org: Organisation,
    *,
    code: str,
    name: str,
    kind: str = "",
    parent_code: str | None = None,
    address: str | None = None,
) -> list[str]:
    """Rename an organisation (code, name, type) and/or move it with its subtree
    under another parent. Returns the names of the fields that changed."""
    require_scope(actor, org)
    code, name, kind = code.strip(), name.strip(), kind.strip()
    if not code or not name:
        raise Invalid(_l("An organisation needs a code and a name."))
    if code != org.code and db_session.scalar(
        select(Organisation.id).where(Organisation.code == code, Organisation.id != org.id)
    ):
        raise Conflict(_l("The organisation code “%(code)s” is already taken.", code=code))
    old_parent = org.parent
    parent = organisation_by_code(db_session, parent_code) if parent_code else None
    fields = (("code", org.code, code), ("name", org.name, name), ("type", org.kind, kind))
    changed = [field for field, old, new in fields if old != new]
    details: dict[str, Any] = {}
    if (parent.id if parent else None) != org.parent_id:
        if parent is None:
            if actor is not None and not actor.network:
                raise Forbidden(_l("Only network administrators create top-level organisations."))
        else:
            require_scope(actor, parent)
        move_organisation(db_session, org, parent)
        changed.append("parent")
        details["parent"] = [
            old_parent.code if old_parent else None,
            parent.code if parent else None,
        ]
    old_code = org.code
    org.code, org.name, org.kind = code, name, kind
    if changed:
        if "code" in changed:
            details["code"] = [old_code, code]
        details["changed"] = changed
        action = "organisation.move" if "parent" in changed else "organisation.update"
        audit(
            db_session, actor, action, "organisation", org.id, address, details,
            organisation_id=org.id, label=code,
        )  # fmt: skip
    db_session.flush()
    return changed


def _check_role(role: str, network: bool) -> None:
    if role not in set(Role):
        raise Invalid(_l("The role must be learner, trainer or admin."))
    if network and role != Role.ADMIN:
        raise Invalid(_l("Only administrators can have the whole network in scope."))


def _check_grants(actor: User | None, network: bool) -> None:
    if network and actor is not None and not actor.network:
        raise Forbidden(_l("Only network administrators can give the whole network in scope."))


def add_user(
    db_session: Session,
    actor: User | None,
    *,
    email: str,
    name: str,
    role: str,
    organisation_code: str,
    password: str | None = None,
    network: bool = False,
    locale: str | None = None,
    address: str | None = None,
    password_hash: str | None = None,
    must_change_password: bool = False,
) -> User:
    """An administrator creates an account in an organisation of their scope.
    `must_change_password`: after signing in, the person is sent to Change
    password until they have chosen their own."""
    require_scope(actor, organisation_by_code(db_session, organisation_code))
    _check_grants(actor, network)
    user = create_user(
        db_session, email, name, role, organisation_code, password=password,
        network=network, locale=locale or None, password_hash=password_hash,
    )  # fmt: skip
    user.must_change_password = must_change_password
    details = {"role": role, "organisation": organisation_code, "network": network}
    if must_change_password:
        details["must_change_password"] = True
    audit(
        db_session, actor, "user.create", "user", user.id, address, details,
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    return user


def update_user(
    db_session: Session,
    actor: User | None,
    user: User,
    *,
    email: str,
    name: str,
    role: str,
    organisation_code: str,
    network: bool | None = None,
    locale: str | None = None,
    password: str | None = None,
    address: str | None = None,
    via: str | None = None,
    password_hash: str | None = None,
    must_change_password: bool | None = None,
) -> list[str]:
    """Change an account. The actor must manage it, and its new organisation
    must be in their scope; administrators cannot take away their own role or
    scope. Returns the names of the fields that changed (the password counts
    as one; its value is never logged). `password_hash`: a new password
    already checked and hashed, as in `create_user`."""
    require_manages(actor, user)
    if user.is_erased:
        raise Conflict(_l("This account has been erased and cannot be changed."))
    network = user.network if network is None else network
    _check_role(role, network)
    if network != user.network:
        _check_grants(actor, True)
    if not name.strip():
        raise Invalid(_l("A user needs a name."))
    email = normalise_email(email)
    if email != user.email:
        if user_by_email(db_session, email):
            raise Conflict(_l("A user with the email %(email)s already exists.", email=email))
        refuse_look_alike(db_session, email, user)
    organisation = organisation_by_code(db_session, organisation_code)
    require_scope(actor, organisation)
    if actor is not None and actor.id == user.id:
        if role != user.role or network != user.network:
            raise Forbidden(_l("You cannot change your own role or scope."))
        if not actor.administers(organisation):
            raise Forbidden(_l("You cannot move yourself out of your own scope."))
    if password is not None:  # an administrator's choice passes the person's own rules
        check_password_strength(password, email, name.strip())
    details: dict[str, Any] = {}
    changed = []
    for field, old, new in (
        ("email", user.email, email),
        ("name", user.name, name.strip()),
        ("role", user.role, role),
        ("organisation", user.organisation.code, organisation.code),
        ("network", user.network, network),
        # "" and None both mean the browser's language: no change between them.
        ("language", user.locale or None, (user.locale if locale is None else locale) or None),
        (
            "must_change_password",
            user.must_change_password,
            user.must_change_password if must_change_password is None else must_change_password,
        ),
    ):
        if old != new:
            changed.append(field)
            if field in ("role", "organisation", "network", "language", "must_change_password"):
                details[field] = [old, new]  # not personal data: safe to keep in the log
    user.email, user.name, user.role, user.network = email, name.strip(), role, network
    user.organisation = organisation
    if locale is not None:
        user.locale = locale or None
    if must_change_password is not None:
        user.must_change_password = must_change_password
    if password:
        password_hash = hash_password(password)
    if password_hash:
        user.password_hash = password_hash
        end_access(db_session, user)  # whoever knew the old one is out
        changed.append("password")
    if changed:
        details["changed"] = changed
        if via:
            details["via"] = via
        audit(
            db_session, actor, "user.update", "user", user.id, address, details,
            organisation_id=organisation.id, label=email,
        )  # fmt: skip
        if "email" in changed:
            # Entries about this account name it by its current email.
            forget_subject(db_session, "user", user.id, email)
    db_session.flush()
    return changed


def set_active(
    db_session: Session,
    actor: User | None,
    user: User,
    active: bool,
    address: str | None = None,
    via: str | None = None,
) -> bool:
    """Deactivate (the account can no longer sign in or use its tokens; nothing
    is deleted) or reactivate an account. Returns whether anything changed."""
    require_manages(actor, user)
    if user.is_erased and active:
        raise Conflict(_l("This account has been erased and cannot be reactivated."))
    if actor is not None and actor.id == user.id and not active:
        raise Forbidden(_l("You cannot deactivate your own account."))
    if user.active == active:
        return False
    user.active = active
    if not active:
        end_access(db_session, user)
    audit(
        db_session, actor, "user.reactivate" if active else "user.deactivate", "user", user.id,
        address, {"via": via} if via else None, organisation_id=user.organisation_id,
        label=user.email,
    )  # fmt: skip
    db_session.flush()
    return True


ERASED_NAME = "Erased user #{id}"
ERASED_EMAIL = "erased-{id}@invalid"


def erase_user(
    db_session: Session, actor: User | None, user: User, address: str | None = None
) -> None:
    """Erase an account's personal data (GDPR art. 17): the name, email and
    password are replaced, the language and time zone cleared, sessions, API
    tokens and mails to them deleted, the account deactivated, and the audit log's labels for it
    replaced. Its enrolments, progress and completions stay, now anonymous, so
    that report totals keep their counts. This is the account's part only:
    erase through vle.admin.services.erase_user, which also erases what the
    floors above hold (the answers a learner typed in quizzes)."""
    require_manages(actor, user)
    if actor is not None and actor.id == user.id:
        raise Forbidden(_l("You cannot erase your own account."))
    if user.is_erased:
        raise Conflict(_l("This account has already been erased."))
    label = ERASED_NAME.format(id=user.id)
    forget_address(db_session, user.email)  # the mails to them, sent or waiting
    user.name = label
    user.email = ERASED_EMAIL.format(id=user.id)
    user.password_hash = ""  # nosec B105 # no password at all: the erased account cannot sign in
    user.locale = None
    user.timezone = None
    user.active = False
    user.erased_at = utcnow()
    end_access(db_session, user)
    forget_subject(db_session, "user", user.id, label)
    audit(
        db_session, actor, "user.erase", "user", user.id, address,
        organisation_id=user.organisation_id, label=label,
    )  # fmt: skip
    db_session.flush()
