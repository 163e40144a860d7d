"""A learner's certificate (PDF), and the public page that verifies a code."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from vle import db
from vle.catalog import services as catalog
from vle.certificates import services
from vle.certificates.forms import VerifyForm
from vle.certificates.pdf import render_pdf
from vle.db import utcnow
from vle.errors import NotFound
from vle.extensions import limiter

bp = Blueprint("certificates", __name__)


@bp.get("/my/certificates/<slug>")
@db.writes
@login_required
def download(slug: str) -> Response:
    """The signed-in learner's certificate for a course they completed; issued
    on the first request. Only ever the requester's own: no id in the URL."""
    db_session = db.session()
    try:
        course = catalog.course_for(db_session, slug, current_user)
        certificate = services.certificate_for(db_session, current_user, course)
    except NotFound:
        abort(404)
    db_session.commit()
    pdf = render_pdf(certificate, services.verify_url(certificate))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{course.slug}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates/verify")
@limiter.limit("60 per minute")
def verify_form() -> Response | str | tuple[str, int]:
    form = VerifyForm(request.args)
    if request.args and form.validate():
        code = services.normalise_code(form.code.data or "")
        if code is not None:
            return redirect(url_for("certificates.verify", code=code))  # type: ignore[return-value]
        return render_template("certificates/verify.html", form=form, checked=True), 404
    return render_template("certificates/verify.html", form=form, checked=False)


@bp.get("/certificates/verify/<code>")
@limiter.limit("60 per minute")
def verify(code: str) -> tuple[str, int] | str:
    """Confirms or denies a code, and shows nothing but the learner's name, the
    course, the date and the organisation."""
    certificate = services.verify(db.session(), code)
    form = VerifyForm(formdata=None, code=code[:64])
    if certificate is None:
        return render_template("certificates/verify.html", form=form, checked=True), 404
    expires_at = certificate.completion.expires_at
    return render_template(
        "certificates/verify.html",
        form=form,
        checked=True,
        certificate=certificate,
        length_words=services.length_words,
        issuer_name=services.issuer_name,
        # Recurring training: past its validity it never says "valid".
        certificate_expired=expires_at is not None and expires_at <= utcnow(),
    )
