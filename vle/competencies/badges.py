"""Badges: public, verifiable proof of a proficient competency or a completed course.

Each badge is published twice over, from one `Badge` row:
- as an Open Badges 2.0 hosted Assertion (JSON-LD at a public, unguessable,
  stable URL; its BadgeClass and the Issuer profile beside it; HTTP 410 once
  revoked), with a baked PNG for the learner;
- as an Open Badges 3.0 `OpenBadgeCredential` signed as a VC-JWT (RS256) whose
  header `kid` is the URL of the issuer's public key (vle/competencies/keys.py).

When badges are issued and revoked:
- a competency's badge when the learner's rating becomes proficient (the rule
  engine's `rederive` calls `competency_standing_changed`); it is revoked when
  the rating falls below proficient (a trainer's lower rating) and reinstated,
  the same badge at the same address, when it is proficient again;
- a course's badge at each completion (a learning `CourseCompleted` listener),
  expiring with the completion when the course has a validity
  (`validity_months` → `Completion.expires_at`): each round of recurring
  training gets its own badge;
- erasing a user revokes all their badges (vle.admin.services.erase_user).

URLs are absolute, built from `VLE_BASE_URL` (the site's public address): the
assertion's `id` is the URL it is fetched from, whichever host a request came
in through, so the links given to pages and the API are the same absolute ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vle.accounts.models import User
from vle.catalog.models import Course
from vle.competencies import keys
from vle.competencies.models import Badge, Competency
from vle.db import utcnow
from vle.learning import events
from vle.learning.models import Completion

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
UID = re.compile(r"[A-Za-z0-9_-]{20,64}")
# A pasted credential longer than this is not one of ours (ours are ~3 kB).
MAX_CREDENTIAL = 20_000


@dataclass(frozen=True)
class BadgeLinks:
    """Where a badge is published: the OB 2.0 assertion and the OB 3.0 credential."""

    assertion: str
    credential: str

    @property
    def baked(self) -> str:
        """The badge image with the assertion baked in: its learner's download."""
        return f"{self.assertion}/baked.png"


# --- addresses ----------------------------------------------------------------------------


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def assertion_url(uid: str) -> str:
    return f"{base_url()}/badges/assertions/{uid}"


def badge_class_url(uid: str) -> str:
    return f"{assertion_url(uid)}/badge"


def image_url(uid: str) -> str:
    return f"{assertion_url(uid)}/image.png"


def credential_url(uid: str) -> str:
    return f"{assertion_url(uid)}/credential"


def issuer_url() -> str:
    return f"{base_url()}/badges/issuer"


def key_url(kid: str) -> str:
    return f"{base_url()}/badges/keys/{kid}.json"


def links(badge: Badge) -> BadgeLinks:
    return BadgeLinks(assertion=assertion_url(badge.uid), credential=credential_url(badge.uid))


def badges_of(db_session: Session, user_id: int) -> dict[int, BadgeLinks]:
    """The learner's badges for competencies in force (not revoked), keyed by
    competency id: one query."""
    rows = db_session.execute(
        select(Badge.competency_id, Badge.uid).where(
            Badge.user_id == user_id,
            Badge.competency_id.is_not(None),
            Badge.revoked_at.is_(None),
        )
    ).all()
    return {
        row.competency_id: BadgeLinks(assertion_url(row.uid), credential_url(row.uid))
        for row in rows
    }


def course_badge(db_session: Session, completion_id: int) -> BadgeLinks | None:
    """The badge of one course completion, None when there is none in force."""
    uid = db_session.scalar(
        select(Badge.uid).where(Badge.completion_id == completion_id, Badge.revoked_at.is_(None))
    )
    if uid is None:
        return None
    return BadgeLinks(assertion_url(uid), credential_url(uid))


def course_badges_of(db_session: Session, user_id: int) -> dict[str, BadgeLinks]:
    """The badge of each course's latest completion (in force), keyed by the
    course's slug, for the learner's enrolments: one query."""
    rows = db_session.execute(
        select(Course.slug, Badge.uid)
        .join(Completion, Completion.id == Badge.completion_id)
        .join(Course, Course.id == Completion.course_id)
        .where(Badge.user_id == user_id, Badge.revoked_at.is_(None))
        .order_by(Completion.completed_at, Completion.id)
    ).all()
    return {row.slug: BadgeLinks(assertion_url(row.uid), credential_url(row.uid)) for row in rows}


def badge_by_uid(db_session: Session, uid: str) -> Badge | None:
    if not UID.fullmatch(uid or ""):
        return None
    return db_session.scalar(select(Badge).where(Badge.uid == uid))


# --- issuing and revoking -------------------------------------------------------------------


def recipient_hash(email: str, salt: str) -> str:
    """Open Badges 2.0's hashed identity: "sha256$" and the hex digest of the
    address followed by the salt."""
    return "sha256$" + hashlib.sha256((email + salt).encode("utf-8")).hexdigest()


def _fixed_words(text: Any) -> str:
    """A badge's words are fixed when issued, in the site's default language
    (the documents are public, read by machines in no one's language)."""
    if not has_app_context():
        return str(text)
    with force_locale(current_app.config.get("DEFAULT_LANGUAGE", "en")):
        return str(text)


def _new_badge(user: User, **values: Any) -> Badge:
    salt = secrets.token_hex(16)
    return Badge(
        uid=secrets.token_urlsafe(24),
        user_id=user.id,
        recipient_salt=salt,
        recipient_hash=recipient_hash(user.email, salt),
        **values,
    )


def competency_standing_changed(
    db_session: Session, user_id: int, competency: Competency, proficient: bool, at: datetime | None
) -> Badge | None:
    """The rule engine says a learner's rating in `competency` became (or
    stopped being) proficient: issue, reinstate or revoke their badge."""
    badge = db_session.scalar(
        select(Badge).where(Badge.user_id == user_id, Badge.competency_id == competency.id)
    )
    if not proficient:
        if badge is not None and badge.revoked_at is None:
            badge.revoked_at = utcnow()
            badge.revocation_reason = _fixed_words(_l("The rating no longer counts as proficient."))
            db_session.flush()
        return badge
    if badge is not None:
        if badge.revoked_at is not None and badge.revocation_reason != ERASED:
            badge.revoked_at = badge.revocation_reason = None
            badge.issued_at = at or utcnow()
            db_session.flush()
        return badge
    user = db_session.get(User, user_id)
    if user is None or user.is_erased:
        return None
    framework = competency.framework
    badge = _new_badge(
        user,
        competency_id=competency.id,
        name=competency.title[:300],
        description=competency.description or framework.title,
        criteria=_fixed_words(
            _l(
                "Rated proficient in the competency “%(competency)s” (%(code)s) of the"
                " framework “%(framework)s”, on evidence kept by the issuer.",
                competency=competency.title,
                code=competency.code,
                framework=framework.title,
            )
        ),
        issued_at=at or utcnow(),
    )
    db_session.add(badge)
    db_session.flush()
    return badge


def on_course_completed(event: events.CourseCompleted) -> None:
    """Each completion of a course gets its badge, expiring with the completion."""
    db_session, completion = event.db_session, event.completion
    exists = db_session.scalar(select(Badge.id).where(Badge.completion_id == completion.id))
    user = db_session.get(User, event.user_id)
    if exists is not None or user is None or user.is_erased:
        return
    course = event.course
    db_session.add(
        _new_badge(
            user,
            completion_id=completion.id,
            name=course.title[:300],
            description=course.summary or course.title,
            criteria=_fixed_words(_l("Completed the course “%(course)s”.", course=course.title)),
            issued_at=completion.completed_at,
            expires_at=completion.expires_at,
        )
    )
    db_session.flush()


ERASED = "erased"


def revoke_all_of(db_session: Session, user: User) -> int:
    """Erasing a user revokes every badge they hold (their addresses answer
    410 from then on) and forgets the hash of their e-mail address: how many
    were revoked. The caller commits."""
    result = db_session.execute(
        update(Badge)
        .where(Badge.user_id == user.id, Badge.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revocation_reason=ERASED)
    )
    db_session.execute(
        update(Badge).where(Badge.user_id == user.id).values(recipient_hash="", recipient_salt="")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def revocation_words(badge: Badge) -> str:
    if badge.revocation_reason == ERASED:
        return _fixed_words(_l("The recipient's personal data was erased."))
    return badge.revocation_reason or ""


def register() -> None:
    """A badge at each course completion (called once by create_app)."""
    events.listen(events.CourseCompleted, on_course_completed)


# --- Open Badges 2.0 documents ---------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def issuer_profile() -> dict[str, Any]:
    """The Issuer (OB 2.0 Profile), also the OB 3.0 credentials' issuer `id`."""
    config = current_app.config
    return {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer_url(),
        "name": config.get("BADGE_ISSUER_NAME") or config["SITE_NAME"],
        "url": base_url() + "/",
        "email": config.get("MAIL_SENDER"),
        "verification": {"allowedOrigins": [_host(base_url())]},
    }


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def assertion_document(badge: Badge) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_url(badge.uid),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": badge.recipient_salt,
            "identity": badge.recipient_hash,
        },
        "badge": badge_class_url(badge.uid),
        "image": image_url(badge.uid),
        "issuedOn": _time(badge.issued_at),
        "verification": {"type": "hosted"},
    }
    if badge.expires_at is not None:
        document["expires"] = _time(badge.expires_at)
    return document


def badge_class_document(badge: Badge) -> dict[str, Any]:
    return {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(badge.uid),
        "name": badge.name,
        "description": badge.description or badge.name,
        "image": image_url(badge.uid),
        "criteria": {"narrative": badge.criteria or badge.name},
        "issuer": issuer_url(),
    }


def revoked_document(badge: Badge) -> dict[str, Any]:
    """What a revoked badge's addresses answer, with HTTP 410."""
    return {
        "@context": OB2_CONTEXT,
        "id": assertion_url(badge.uid),
        "revoked": True,
        "revocationReason": revocation_words(badge),
    }


# --- the picture ---------------------------------------------------------------------------


def initials(name: str) -> str:
    words = [word for word in re.split(r"[\W_]+", name) if word]
    return "".join(word[0] for word in words[:2]).upper() or "?"


def badge_png(badge: Badge, bake: bool = False) -> bytes:
    """A 256-pixel round badge with the initials of its name; baked (Open
    Badges 2.0 baking: an iTXt chunk `openbadges` holding the hosted
    assertion's URL, uncompressed) for the learner's download."""
    size = 256
    digest = hashlib.sha256(badge.name.encode("utf-8")).digest()
    # A dark colour (white letters on it pass WCAG contrast), one per name.
    colour = (40 + digest[0] % 60, 50 + digest[1] % 70, 90 + digest[2] % 70)
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, size - 4, size - 4), fill=colour, outline=(255, 215, 0), width=10)
    font = ImageFont.load_default(size=96)
    draw.text((size / 2, size / 2), initials(badge.name), fill="white", font=font, anchor="mm")
    info = PngInfo()
    if bake:
        info.add_itxt("openbadges", assertion_url(badge.uid), zip=False)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


# --- Open Badges 3.0: the credential as a VC-JWT -------------------------------------------


def credential_document(badge: Badge) -> dict[str, Any]:
    """The OpenBadgeCredential (VC data model 2.0) of a badge. Its subject has
    no `id` (the learner has no identifier of their own here): they are named
    by the same salted e-mail hash as in the OB 2.0 assertion."""
    profile = issuer_profile()
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB3_CONTEXT],
        "id": credential_url(badge.uid),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": badge.name,
        "issuer": {
            "id": profile["id"],
            "type": ["Profile"],
            "name": profile["name"],
            "url": profile["url"],
        },
        "validFrom": _time(badge.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": badge.recipient_hash,
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": badge.recipient_salt,
                }
            ],
            "achievement": {
                "id": badge_class_url(badge.uid),
                "type": ["Achievement"],
                "name": badge.name,
                "description": badge.description or badge.name,
                "criteria": {"narrative": badge.criteria or badge.name},
                "image": {"id": image_url(badge.uid), "type": "Image"},
            },
        },
    }
    if badge.expires_at is not None:
        credential["validUntil"] = _time(badge.expires_at)
    return credential


def credential_jwt(badge: Badge) -> str:
    """The credential as a compact VC-JWT, per Open Badges 3.0 §8.2 (JSON Web
    Token proof format): the payload is the credential itself with the JWT
    claims `iss` (the issuer's id), `jti` (the credential's id), `nbf`
    (validFrom) and `exp` (validUntil, when it expires) beside it; no `sub`,
    as the subject has no id. Header: RS256, `typ` "JWT", `kid` the URL of
    the signing key."""
    ring = keys.keyring(current_app.config)
    assert ring is not None  # noqa: S101 - created when missing
    claims = credential_document(badge)
    claims["iss"] = claims["issuer"]["id"]
    claims["jti"] = claims["id"]
    claims["nbf"] = int(badge.issued_at.timestamp())
    if badge.expires_at is not None:
        claims["exp"] = int(badge.expires_at.timestamp())
    header = {"alg": "RS256", "typ": "JWT", "kid": key_url(ring.signing_kid)}
    return jwt.encode(header, claims, ring.signing, algorithms=["RS256"])


def public_keys(kid: str | None = None) -> dict[str, Any] | None:
    """The published keys as a JWK Set (each key's `kid` its URL); one key's
    set when `kid` names it, None when it names none."""
    ring = keys.keyring(current_app.config)
    assert ring is not None  # noqa: S101
    if kid is None:
        chosen = ring.published
    elif kid in ring.published:
        chosen = {kid: ring.published[kid]}
    else:
        return None
    return {
        "keys": [
            {**key.as_dict(private=False), "kid": key_url(thumb), "alg": "RS256", "use": "sig"}
            for thumb, key in chosen.items()
        ]
    }


# --- verifying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the verify page says: `status` one of valid, expired, revoked,
    tampered, unknown_key, foreign, unknown, garbage; `badge` when the input
    named one of ours."""

    status: str
    badge: Badge | None = None
    issuer: str | None = None

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _standing_verdict(badge: Badge, issuer: str | None, now: datetime) -> Verdict:
    if badge.revoked_at is not None:
        return Verdict("revoked", badge, issuer)
    if badge.expires_at is not None and badge.expires_at <= now:
        return Verdict("expired", badge, issuer)
    return Verdict("valid", badge, issuer)


def verify(
    db_session: Session, text: str, also_hosts: tuple[str, ...] = (), now: datetime | None = None
) -> Verdict:
    """Check a pasted credential (compact VC-JWT) or an assertion URL of this
    site. Never raises on any input: every failure is a verdict."""
    now = now or utcnow()
    text = (text or "").strip()
    if not text or len(text) > MAX_CREDENTIAL:
        return Verdict("garbage")
    issuer = issuer_profile()["name"]
    if re.match(r"https?://", text, re.IGNORECASE):
        return _verify_url(db_session, text, also_hosts, issuer, now)
    parts = text.split(".")
    if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9_-]*", part) for part in parts):
        return Verdict("garbage")
    try:
        header = _b64json(parts[0])
        claims = _b64json(parts[1])
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return Verdict("garbage")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return Verdict("garbage")
    kid = header.get("kid")
    prefix = f"{base_url()}/badges/keys/"
    if claims.get("iss") != issuer_url() or not isinstance(kid, str):
        return Verdict("foreign")
    if not kid.startswith(prefix) or not kid.endswith(".json"):
        return Verdict("unknown_key")
    try:
        ring = keys.keyring(current_app.config, create=False)
    except keys.BadgeKeyError:  # the site's keys are misconfigured: said in the log
        current_app.logger.exception("badge keys unreadable")
        ring = None
    key = ring.published.get(kid[len(prefix) : -len(".json")]) if ring else None
    if key is None:
        return Verdict("unknown_key")
    try:
        token = jwt.decode(text, key, algorithms=["RS256"])
    except BadSignatureError:
        return Verdict("tampered")
    except (JoseError, ValueError, TypeError):
        return Verdict("garbage")
    jti = token.claims.get("jti")
    uid = _uid_from(jti if isinstance(jti, str) else "", (base_url(),), suffix="/credential")
    badge = badge_by_uid(db_session, uid) if uid else None
    if badge is None:
        return Verdict("unknown")
    exp = token.claims.get("exp")
    if isinstance(exp, int | float) and exp <= now.timestamp() and badge.revoked_at is None:
        return Verdict("expired", badge, issuer)
    return _standing_verdict(badge, issuer, now)


def _uid_from(url: str, bases: tuple[str, ...], suffix: str = "") -> str | None:
    for base in bases:
        start = f"{base.rstrip('/')}/badges/assertions/"
        if url.startswith(start):
            rest = url[len(start) :]
            rest = rest.split("#", 1)[0].split("?", 1)[0].rstrip("/")
            if suffix and rest.endswith(suffix):
                rest = rest[: -len(suffix)]
            elif suffix:
                return None
            return rest if UID.fullmatch(rest) else None
    return None


def _verify_url(
    db_session: Session, url: str, also_hosts: tuple[str, ...], issuer: str, now: datetime
) -> Verdict:
    bases = (base_url(), *also_hosts)
    if not any(url.startswith(f"{base.rstrip('/')}/badges/") for base in bases):
        return Verdict("foreign")
    uid = _uid_from(url, bases)
    badge = badge_by_uid(db_session, uid) if uid else None
    if badge is None:
        return Verdict("unknown")
    return _standing_verdict(badge, issuer, now)


STATUS_WORDS = {
    "valid": _l("This badge is valid"),
    "expired": _l("This badge has expired"),
    "revoked": _l("This badge was revoked"),
    "tampered": _l("This credential has been altered: its signature does not match"),
    "unknown_key": _l("This credential was signed with a key this site does not publish"),
    "foreign": _l("This credential or address was not issued by this site"),
    "unknown": _l("This site issued no badge with this address"),
    "garbage": _l("This is neither a badge credential nor a badge address"),
}


def status_words(status: str) -> str:
    return str(STATUS_WORDS[status])
