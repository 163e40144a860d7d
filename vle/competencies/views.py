"""The competency pages: My competencies (a learner's own profile, their
self-assessments and review requests), a learner's profile for their trainers
and administrators (with Rate), the trainers' review queue and, per course,
how many learners are proficient in each linked competency."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vle import db
from vle.accounts.models import User
from vle.catalog import services as catalog
from vle.competencies import desk, services
from vle.competencies.forms import ActionForm, RatingForm, SelfAssessmentForm, set_scale
from vle.competencies.models import Competency
from vle.competencies.profile import Profile, label, profile
from vle.errors import DomainError, Forbidden, NotFound

bp = Blueprint("competencies", __name__)

EVIDENCE_WORDS = {
    "course_completed": _l("Course completed"),
    "item_completed": _l("Lesson completed"),
    "quiz_passed": _l("Quiz passed"),
    "rating": _l("Rated by a trainer"),
    "import": _l("Imported with the framework"),
    "self_assessment": _l("Self-assessment (never counts as a rating)"),
    "rule": _l("Rated by the rule from its sub-competencies"),
}
PLAN_STATUS_WORDS = {
    "draft": _l("Draft"),
    "active": _l("Active"),
    "complete": _l("Complete"),
}
REVIEW_REASON_WORDS = {
    "request": _l("The learner asked for a review"),
    "recommend": _l("A course or quiz recommends a review"),
}
OUTCOME_WORDS = {
    "evidence": _l("Logs evidence"),
    "recommend": _l("Asks for a review"),
    "complete": _l("Rates it"),
}


def reviews_nav() -> int:
    """Competencies waiting for the signed-in trainer's review, once per request."""
    if "competency_reviews" not in g:
        g.competency_reviews = desk.reviews_waiting(db.session(), current_user)
    return g.competency_reviews


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"competency_reviews": reviews_nav}


def _scale_words(found: Profile) -> dict[str, str]:
    return {v: label(v) or "" for f in found.frameworks for v in f.scale}


def _page(
    learner: User,
    *,
    own: bool,
    may_rate: bool = False,
    posted: Any = None,
    posted_id: int | None = None,
    status: int = 200,
) -> tuple[str, int]:
    found = profile(db.session(), learner.id)
    return render_template(
        "competencies/profile.html",
        learner=learner,
        profile=found,
        own=own,
        may_rate=may_rate,
        posted=posted,
        posted_id=posted_id,
        words=_scale_words(found),
        evidence_words=EVIDENCE_WORDS,
        plan_words=PLAN_STATUS_WORDS,
        reason_words=REVIEW_REASON_WORDS,
        action_form=ActionForm(formdata=None),
        local_path=_local_path,
    ), status


def _local_path(url: str) -> str:
    """An address of this site as a path: the learner's own badge download needs
    their session, which the site's public address (VLE_BASE_URL) may not carry."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _competency(code: str) -> Competency:
    try:
        return services.competency_by_code(db.session(), code)
    except NotFound:
        abort(404)


# --- the learner's own ----------------------------------------------------------------------


@bp.get("/my/competencies")
@login_required
def my_competencies() -> tuple[str, int]:
    return _page(current_user, own=True)


@bp.post("/my/competencies/<code>/self-assessment")
@login_required
def self_assess(code: str) -> Response | tuple[str, int]:
    competency = _competency(code)
    form = SelfAssessmentForm()
    set_scale(form, list(competency.framework.scale), {})
    if not form.validate_on_submit():
        db.session().rollback()
        return _page(current_user, own=True, posted=form, posted_id=competency.id, status=422)
    try:
        services.self_assess(
            db.session(), current_user, competency, form.rating.data, form.note.data,
            address=request.remote_addr,
        )  # fmt: skip
    except DomainError as error:
        db.session().rollback()
        form.rating.errors = [*form.rating.errors, error.message]
        return _page(current_user, own=True, posted=form, posted_id=competency.id, status=422)
    db.session().commit()
    flash(_("Your self-assessment of %(title)s is saved.", title=competency.title), "success")
    return redirect(url_for("competencies.my_competencies", _anchor=f"c{competency.id}"))


@bp.post("/my/competencies/<code>/review")
@login_required
def request_review(code: str) -> Response:
    competency = _competency(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.request_review(db.session(), current_user, competency, address=request.remote_addr)
    db.session().commit()
    flash(_("Your trainers are asked to review %(title)s.", title=competency.title), "success")
    return redirect(url_for("competencies.my_competencies", _anchor=f"c{competency.id}"))


# --- a learner's profile for their trainers and administrators ------------------------------


def _learner(user_id: int) -> User:
    try:
        return services.require_profile(db.session(), current_user, user_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


@bp.get("/competencies/users/<int:user_id>")
@login_required
def learner_profile(user_id: int) -> Response | tuple[str, int]:
    learner = _learner(user_id)
    if learner.id == current_user.id:
        return redirect(url_for("competencies.my_competencies"))
    return _page(
        learner, own=False, may_rate=services.can_rate(db.session(), current_user, learner)
    )


@bp.post("/competencies/users/<int:user_id>/<code>/rating")
@login_required
def rate(user_id: int, code: str) -> Response | tuple[str, int]:
    learner = _learner(user_id)
    if not services.can_rate(db.session(), current_user, learner):
        abort(403)
    competency = _competency(code)
    form = RatingForm()
    set_scale(form, list(competency.framework.scale), {})
    if not form.validate_on_submit():
        db.session().rollback()
        return _page(learner, own=False, may_rate=True, posted=form, posted_id=competency.id,
                     status=422)  # fmt: skip
    try:
        services.rate(
            db.session(), current_user, learner, competency, form.rating.data, form.note.data,
            address=request.remote_addr,
        )  # fmt: skip
    except Forbidden:
        db.session().rollback()
        abort(403)
    except DomainError as error:
        db.session().rollback()
        form.rating.errors = [*form.rating.errors, error.message]
        return _page(learner, own=False, may_rate=True, posted=form, posted_id=competency.id,
                     status=422)  # fmt: skip
    db.session().commit()
    flash(
        _("%(name)s is rated “%(rating)s” in %(title)s.", name=learner.name,
          rating=label(form.rating.data), title=competency.title),
        "success",
    )  # fmt: skip
    return redirect(
        url_for("competencies.learner_profile", user_id=learner.id, _anchor=f"c{competency.id}")
    )


# --- the trainer's desk ---------------------------------------------------------------------


@bp.get("/trainer/competencies/reviews")
@login_required
def reviews() -> str:
    if not current_user.is_staff:
        abort(403)
    queue = desk.review_queue(db.session(), current_user)
    return render_template(
        "competencies/reviews.html",
        queue=queue,
        limit=desk.QUEUE_LIMIT,
        reason_words=REVIEW_REASON_WORDS,
        label=label,
    )


@bp.get("/trainer/courses/<slug>/competencies")
@login_required
def course_competencies(slug: str) -> str:
    if not current_user.is_staff:
        abort(403)
    try:
        course = catalog.course_for(db.session(), slug, current_user, with_items=True)
    except NotFound:
        abort(404)
    try:
        scope = desk.course_scope(db.session(), current_user, course)
    except Forbidden:
        abort(403)
    lines = desk.course_competencies(db.session(), course, scope)
    return render_template(
        "competencies/course.html",
        course=course,
        scope=scope,
        lines=lines,
        outcome_words=OUTCOME_WORDS,
    )
