"""Sign-in through an organisation's own OpenID Connect identity provider: its
configuration and the rules that turn a provider's verified answer into an
account. The talking to the provider (discovery, the code flow, the ID token's
signature) is Authlib's, in accounts/oidc.py; this module never sees a request.

The client secret is stored sealed (Fernet: AES-128-CBC with an HMAC) with a
key derived from the app's SECRET_KEY by HKDF. A database dump alone does not
reveal it, and no page, command or audit entry shows it back. Changing
SECRET_KEY makes stored secrets unreadable: set them again with
`vle organisations sso` (sign-in through the provider says so meanwhile).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vle.accounts.models import Organisation, Role, SsoDomain, SsoProvider, User
from vle.accounts.services import (
    create_user,
    fold_email,
    normalise_email,
    organisation_by_code,
    require_scope,
    user_by_email,
)
from vle.audit import audit
from vle.db import utcnow
from vle.errors import Conflict, Forbidden, Invalid
from vle.inputs import has_control

# Hosts where a provider may answer over plain http: the machine itself
# (development and the tests). Anywhere else the issuer must use https.
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"vle sso client secret"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(client_secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(client_secret.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Invalid(
            _l(
                "The client secret of this organisation's sign-in cannot be read (the site's "
                "secret key has changed). An administrator must set it again."
            )
        ) from None


def normalise_issuer(issuer: str) -> str:
    """The issuer's URL as its discovery document must name it: https (http
    only on this machine), no query or fragment, no trailing slash."""
    issuer = issuer.strip().rstrip("/")
    try:
        parts = urlsplit(issuer)
        host = parts.hostname
    except ValueError:
        host = None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
    if not host or not secure or parts.query or parts.fragment or parts.username:
        raise Invalid(
            _l(
                "The issuer must be the provider's https address, such as "
                "https://login.example.org/realms/staff."
            )
        )
    return issuer


def normalise_domain(domain: str) -> str:
    """An e-mail domain folded as addresses are ("@Vilnius.LT " is "vilnius.lt")."""
    folded = fold_email(domain).lstrip("@")
    try:
        return validate_email(f"x@{folded}", check_deliverability=False).domain
    except EmailNotValidError:
        raise Invalid(_l("“%(domain)s” is not an e-mail domain.", domain=domain)) from None


def domain_of(email: str) -> str:
    return fold_email(email).rpartition("@")[2]


def provider_of(db_session: Session, organisation: Organisation) -> SsoProvider | None:
    return db_session.scalar(
        select(SsoProvider).where(SsoProvider.organisation_id == organisation.id)
    )


def any_provider(db_session: Session) -> bool:
    """Does any organisation sign its people in through its own provider?"""
    return db_session.scalar(select(SsoProvider.id).limit(1)) is not None


def provider_for_email(db_session: Session, email: str) -> SsoProvider | None:
    """The provider that covers this address's domain, if any (one at most).
    Anything that cannot be an address (a NUL, 254 characters and more) has none."""
    if "@" not in email or len(email) > 254 or has_control(email):
        return None
    return db_session.scalar(
        select(SsoProvider)
        .join(SsoDomain, SsoDomain.provider_id == SsoProvider.id)
        .where(SsoDomain.domain == domain_of(email))
    )


def configure(
    db_session: Session,
    actor: User | None,
    organisation_code: str,
    *,
    issuer: str,
    client_id: str,
    client_secret: str | None,
    domains: list[str],
    secret_key: str,
    address: str | None = None,
) -> SsoProvider:
    """Set (or replace) the organisation's identity provider and the e-mail
    domains it covers. An administrator of the organisation's scope (None: the
    command line) does it. A domain already covered by another organisation's
    provider is refused. `client_secret`: None or blank keeps the stored one
    (a form never shows it back); a new provider needs one."""
    organisation = organisation_by_code(db_session, organisation_code)
    require_scope(actor, organisation)
    issuer = normalise_issuer(issuer)
    client_id = client_id.strip()
    if not client_id or len(client_id) > 255:
        raise Invalid(_l("The client id must have 1 to 255 characters."))
    if client_secret is not None and len(client_secret) > 500:
        raise Invalid(_l("The client secret can have at most 500 characters."))
    covered = sorted({normalise_domain(domain) for domain in domains if domain.strip()})
    if not covered:
        raise Invalid(_l("Name at least one e-mail domain that the provider signs in."))
    provider = provider_of(db_session, organisation)
    taken = db_session.execute(
        select(SsoDomain.domain, Organisation.code)
        .join(SsoProvider, SsoProvider.id == SsoDomain.provider_id)
        .join(Organisation, Organisation.id == SsoProvider.organisation_id)
        .where(SsoDomain.domain.in_(covered), SsoProvider.organisation_id != organisation.id)
    ).first()
    if taken is not None:
        raise Conflict(
            _l(
                "The domain %(domain)s already signs in through the provider of %(code)s.",
                domain=taken.domain,
                code=taken.code,
            )
        )
    if provider is None:
        if not client_secret:
            raise Invalid(_l("A new provider needs its client secret."))
        provider = SsoProvider(organisation=organisation, client_secret_sealed="")  # nosec B106 # no secret yet: sealed just below
        db_session.add(provider)
        before: dict[str, Any] = {}
    else:
        before = {"issuer": provider.issuer, "client_id": provider.client_id}
        before["domains"] = [d.domain for d in provider.domains]
    provider.issuer, provider.client_id = issuer, client_id
    if client_secret:
        provider.client_secret_sealed = seal(client_secret, secret_key)
    kept = {d.domain: d for d in provider.domains}
    provider.domains = [kept.get(domain) or SsoDomain(domain=domain) for domain in covered]
    provider.updated_at = utcnow()
    db_session.flush()
    after = {"issuer": issuer, "client_id": client_id, "domains": covered}
    # Only what changed, before → after; the secret is never written here.
    details: dict[str, Any] = {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }
    if client_secret and before:
        details["secret_replaced"] = True
    audit(
        db_session, actor, "organisation.sso", "organisation", organisation.id, address,
        details, organisation_id=organisation.id, label=organisation.code,
    )  # fmt: skip
    return provider


def remove(
    db_session: Session, actor: User | None, organisation_code: str, address: str | None = None
) -> bool:
    """The organisation's people sign in with their passwords again (those made
    by the provider have none yet: "Forgotten your password?" sets one). Their
    accounts stay. Returns whether there was a provider to remove."""
    organisation = organisation_by_code(db_session, organisation_code)
    require_scope(actor, organisation)
    provider = provider_of(db_session, organisation)
    if provider is None:
        return False
    details = {
        "issuer": [provider.issuer, None],
        "domains": [[d.domain for d in provider.domains], None],
    }
    db_session.delete(provider)
    audit(
        db_session, actor, "organisation.sso_remove", "organisation", organisation.id, address,
        details, organisation_id=organisation.id, label=organisation.code,
    )  # fmt: skip
    db_session.flush()
    return True


def account_for(
    db_session: Session, provider: SsoProvider, claims: dict[str, Any], address: str | None = None
) -> User:
    """The account that the provider's verified answer (the ID token's claims,
    its signature, issuer, audience and nonce already checked) signs in.

    The e-mail must be verified by the provider and on a domain this provider
    covers. The account with that address (folded as sign-in folds it) must be
    active and belong to the provider's organisation or one below it. If there
    is none, a learner account is made in the provider's organisation: never
    anywhere else. Audited ("user.sign_in_oidc", and "user.create" for a new
    account). Raises Forbidden with the reason; the caller rolls back."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise Forbidden(_l("Your organisation's sign-in did not tell us your e-mail address."))
    if claims.get("email_verified") is not True:
        raise Forbidden(
            _l(
                "Your organisation's sign-in has not verified the e-mail address %(email)s, "
                "so it cannot sign you in here.",
                email=email,
            )
        )
    try:
        email = normalise_email(email)
    except Invalid as error:
        raise Forbidden(error.message) from None
    if domain_of(email) not in {d.domain for d in provider.domains}:
        raise Forbidden(
            _l(
                "The address %(email)s is not one that %(organisation)s signs in.",
                email=email,
                organisation=provider.organisation.name,
            )
        )
    user = user_by_email(db_session, email)
    created = False
    if user is None:
        user, created = _new_account(db_session, provider, claims, email, address)
    if not created and not user.active:
        raise Forbidden(_l("This account has been deactivated. Ask your administrator."))
    if not created and not provider.organisation.contains(user.organisation):
        raise Forbidden(
            _l(
                "Your account belongs to another organisation: log in with your password.",
            )
        )
    audit(
        db_session, user, "user.sign_in_oidc", "user", user.id, address,
        {"issuer": provider.issuer, "created": created},
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    db_session.flush()
    return user


def _new_account(
    db_session: Session,
    provider: SsoProvider,
    claims: dict[str, Any],
    email: str,
    address: str | None,
) -> tuple[User, bool]:
    """A learner account for a first sign-in, and whether this sign-in made it.

    Two first sign-ins of the same new address at once (two tabs, a double
    click, a retried callback) both find no account; the second's insert then
    meets the first's row (the unique e-mail: an IntegrityError, or the
    Conflict of create_user's own look-up when the first has committed by
    then). In a savepoint, so the sign-in's transaction survives it: the second
    signs in the account the first made, under the same rules as any existing
    account, instead of failing with a server error."""
    try:
        with db_session.begin_nested():
            user = create_user(
                db_session, email, _name(claims, email), Role.LEARNER, provider.organisation.code
            )
    except (IntegrityError, Conflict):
        existing = user_by_email(db_session, email)
        if existing is None:  # another account's look-alike, not this race
            raise
        return existing, False
    audit(
        db_session, user, "user.create", "user", user.id, address,
        {"role": Role.LEARNER.value, "organisation": provider.organisation.code, "via": "oidc"},
        organisation_id=user.organisation_id, label=user.email,
    )  # fmt: skip
    return user, True


def _name(claims: dict[str, Any], email: str) -> str:
    """The name the provider gives, or the address's local part."""
    for value in (
        claims.get("name"),
        " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name")),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return email.partition("@")[0]
