"""Badges' public addresses (Open Badges 2.0 and 3.0), the learner's baked
image, and the public verification page."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from vle import db
from vle.competencies import badges
from vle.competencies.badge_forms import VerifyBadgeForm
from vle.competencies.models import Badge
from vle.extensions import limiter

bp = Blueprint("badges", __name__, url_prefix="/badges")

LD_JSON = "application/ld+json"
VC_JWT = "application/vc+jwt"


def _json(document: dict[str, Any], status: int = 200, mimetype: str = LD_JSON) -> Response:
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2), status=status, mimetype=mimetype
    )
    # Backpacks and verifiers fetch these from other sites' pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _badge(uid: str) -> Badge:
    badge = badges.badge_by_uid(db.session(), uid)
    if badge is None:
        abort(404)
    return badge


def _wants_html() -> bool:
    """A browser (asking for HTML by name, above JSON); verifiers and
    backpacks ask for JSON-LD or anything, and get JSON-LD."""
    if "text/html" not in request.headers.get("Accept", ""):
        return False
    accept = request.accept_mimetypes
    return accept["text/html"] > max(accept[LD_JSON], accept["application/json"])


def _render(template: str, **context: Any) -> str:
    return render_template(
        template,
        status_words=badges.status_words,
        revocation_words=badges.revocation_words,
        **context,
    )


@bp.get("/issuer")
def issuer() -> Response:
    return _json(badges.issuer_profile())


@bp.get("/keys.json")
def key_set() -> Response:
    """Every published key (the signing one and the older ones)."""
    return _json(badges.public_keys() or {"keys": []}, mimetype="application/jwk-set+json")


@bp.get("/keys/<kid>.json")
def key(kid: str) -> Response:
    """The key a credential's `kid` names, as a JWK Set of one."""
    keys = badges.public_keys(kid)
    if keys is None:
        abort(404)
    return _json(keys, mimetype="application/jwk-set+json")


@bp.get("/assertions/<uid>")
def assertion(uid: str) -> Response | str | tuple[str, int]:
    """The Open Badges 2.0 hosted Assertion (JSON-LD); 410 once revoked. A
    browser asking for HTML gets the same facts as a page."""
    badge = _badge(uid)
    if _wants_html():
        status = 410 if badge.revoked_at is not None else 200
        verdict = badges.verify(db.session(), badges.assertion_url(badge.uid))
        return _render(
            "competencies/badges/badge.html",
            badge=badge,
            verdict=verdict,
            links=badges.links(badge),
            owner=current_user.is_authenticated and current_user.id == badge.user_id,
        ), status
    if badge.revoked_at is not None:
        return _json(badges.revoked_document(badge), 410)
    return _json(badges.assertion_document(badge))


@bp.get("/assertions/<uid>/badge")
def badge_class(uid: str) -> Response:
    return _json(badges.badge_class_document(_badge(uid)))


@bp.get("/assertions/<uid>/image.png")
def image(uid: str) -> Response:
    response = Response(badges.badge_png(_badge(uid)), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/assertions/<uid>/baked.png")
@login_required
def baked(uid: str) -> Response:
    """The badge image with its assertion's address baked in, for the learner
    it was issued to (they upload it to a backpack): nobody else's to take."""
    badge = _badge(uid)
    if badge.user_id != current_user.id:
        abort(403)
    if badge.revoked_at is not None:
        abort(410)
    response = Response(badges.badge_png(badge, bake=True), mimetype="image/png")
    name = "".join(c if c.isalnum() else "-" for c in badge.name.lower()).strip("-")[:60]
    response.headers["Content-Disposition"] = f'attachment; filename="badge-{name or "vle"}.png"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/assertions/<uid>/credential")
def credential(uid: str) -> Response:
    """The Open Badges 3.0 OpenBadgeCredential as a compact VC-JWT; 410 once revoked."""
    badge = _badge(uid)
    if badge.revoked_at is not None:
        return _json(badges.revoked_document(badge), 410, mimetype="application/json")
    response = Response(badges.credential_jwt(badge), mimetype=VC_JWT)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("60 per minute", methods=["POST"])
def verify() -> str | tuple[str, int]:
    """Anyone may check a pasted credential or a badge address: the answer
    says whether it is valid, or why not; nothing about the learner but the
    salted hash the badge itself carries."""
    form = VerifyBadgeForm()
    verdict = None
    if request.method == "POST":
        if not form.validate():
            return _render("competencies/badges/verify.html", form=form), 422
        verdict = badges.verify(
            db.session(), form.credential.data or "", also_hosts=(request.host_url,)
        )
    return _render(
        "competencies/badges/verify.html",
        form=form,
        verdict=verdict,
        words=badges.status_words(verdict.status) if verdict else None,
    )
