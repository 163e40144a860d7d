"""Badges: public, verifiable proof of a proficient competency or a completed course.

Each badge is published twice over, from one `Badge` row:
- as an Open Badges 2.0 hosted Assertion (JSON-LD at a public, unguessable,
  stable URL; its BadgeClass and the Issuer profile beside it; HTTP 410 once
  revoked), with a baked PNG for the learner;
- as an Open Badges 3.0 `OpenBadgeCredential` signed as a VC-JWT (RS256) whose
  header `kid` is the URL of the issuer's public key (vle/competencies/keys.py).

URLs are absolute, built from `VLE_BASE_URL` (the site's public address): the
assertion's `id` is the URL it is fetched from, whichever host a request came
in through, so the links given to pages and the API are the same absolute ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from vle.competencies.models import Badge


@dataclass(frozen=True)
class BadgeLinks:
    """Where a badge is published: the OB 2.0 assertion and the OB 3.0 credential."""

    assertion: str
    credential: str


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def assertion_url(uid: str) -> str:
    return f"{base_url()}/badges/assertions/{uid}"


def credential_url(uid: str) -> str:
    return f"{assertion_url(uid)}/credential"


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
