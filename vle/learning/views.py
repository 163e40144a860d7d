"""The learner's pages: catalogue, course page, item pages, My learning."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from vle import db, uploads
from vle.catalog import services as catalog
from vle.catalog.models import Course
from vle.db import utcnow
from vle.errors import DomainError, NotFound
from vle.learning import assignments, services
from vle.learning.forms import EnrolForm
from vle.learning.kinds import kind_of, open_work
from vle.learning.models import Enrolment
from vle.mail import services as mail

bp = Blueprint("learning", __name__)


def _course(slug: str, *, with_items: bool = True) -> Course:
    try:
        return catalog.course_for(db.session(), slug, current_user, with_items=with_items)
    except NotFound:
        abort(404)


CATALOGUE_PER_PAGE = 20


@bp.get("/courses")
def catalogue() -> str:
    """The catalogue: a search and a language filter, both kept in the address
    (and so in the pager's links), CATALOGUE_PER_PAGE courses a page."""
    search = request.args.get("q", "")[:200]
    language = request.args.get("language", "")
    if language not in catalog.LANGUAGE_NAMES:
        language = ""  # an unknown language filters nothing
    number = max(1, request.args.get("page", 1, type=int) or 1)
    courses = catalog.published_courses(db.session(), search, language)
    start = (number - 1) * CATALOGUE_PER_PAGE
    page = db.Page(
        items=courses[start : start + CATALOGUE_PER_PAGE],
        total=len(courses),
        page=number,
        per_page=CATALOGUE_PER_PAGE,
    )
    return render_template(
        "learning/catalogue.html",
        page=page,
        courses=page.items,
        search=search,
        language=language,
        language_names=catalog.LANGUAGE_NAMES,
        # What the pager's links keep: only what was given.
        query={k: v for k, v in (("q", search), ("language", language)) if v},
    )


def _course_and_enrolment(slug: str) -> tuple[Course, Enrolment | None]:
    try:
        return services.course_and_enrolment(db.session(), slug, current_user)
    except NotFound:
        abort(404)


@bp.get("/courses/<slug>")
def course(slug: str) -> str:
    course, enrolment = _course_and_enrolment(slug)
    may_enrol = enrolment is None and current_user.is_authenticated
    return _course_page(course, enrolment, _enrol_form(course) if may_enrol else None)


# The session key of a refused enrolment key's message, shown on the course
# page the refusal redirects to (so a refresh repeats no POST).
_KEY_ERROR = "enrolment_key_error"


def _enrol_form(course: Course) -> EnrolForm:
    """The Enrol form, with the course's key hint as the key's description and
    the message of a key just refused on this course."""
    form = EnrolForm()
    hint = course.enrolment_key_hint
    # Written by the trainer, in the course's language.
    form.key.description = (
        Markup('<span lang="{}">{}</span>').format(course.language, hint) if hint else ""
    )
    refused = session.pop(_KEY_ERROR, None)
    if isinstance(refused, dict) and refused.get("slug") == course.slug:
        form.key.errors = [str(refused.get("message", ""))]
    return form


def _course_page(course: Course, enrolment: Enrolment | None, enrol_form: EnrolForm | None) -> str:
    db_session = db.session()
    if enrolment is not None:
        modules, progress = services.contents_and_progress(db_session, current_user, course)
    else:
        modules, progress = catalog.contents(db_session, course), {}
    return render_template(
        "learning/course.html",
        course=course,
        modules=modules,
        enrolment=enrolment,
        done=services.done_items(modules, progress),
        # Asked once here, not once per item in the template.
        may_open_items=enrolment is not None or course.can_edit(current_user),
        enrol_form=enrol_form,  # only for those who may enrol
        # Item id → page: a quiz attempt left open (**Continue attempt**).
        open_work=open_work(db_session, current_user, course) if enrolment is not None else {},
        open_for_enrolment=services.can_self_enrol(course),
        # Staff only: a learner's page asks nothing more of the database.
        may_assign=current_user.is_authenticated
        and current_user.is_staff
        and assignments.may_assign(current_user, course),
        today=utcnow().date(),
    )


@bp.post("/courses/<slug>/enrol")
@login_required
def enrol(slug: str) -> Response:
    """Enrol; a refusal goes back to the course page (303) with its message on
    the key field, or as a message when the course asks no key."""
    course = _course(slug, with_items=False)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            if course.enrolment_key:
                with db.transaction() as db_session:  # counted even when the key is wrong
                    allowed = services.reserve_key_try(
                        db_session, current_user, request.remote_addr
                    )
                if not allowed:
                    raise services.TooManyKeyTries()
            _enrolment, created = services.enrol(
                db.session(), current_user, course, key=form.key.data
            )
        except DomainError as error:
            db.session().rollback()
            message = str(error.message)
        else:
            db.session().commit()
            if created:
                flash(_("You are enrolled in %(title)s.", title=course.title), "success")
            return redirect(url_for("learning.course", slug=slug))
    else:
        message = " ".join(form.key.errors)
    if course.enrolment_key:
        session[_KEY_ERROR] = {"slug": slug, "message": message}
    else:
        flash(message, "error")
    return redirect(url_for("learning.course", slug=slug), 303)


@bp.get("/courses/<slug>/items/<int:item_id>")
@login_required
def item(slug: str, item_id: int) -> str:
    course, enrolment = _course_and_enrolment(slug)
    item = _item(course, item_id)
    db_session = db.session()
    if enrolment is None and not course.can_edit(current_user):
        flash(_("Enrol in the course to open its items."), "info")
        return redirect(url_for("learning.course", slug=slug))  # type: ignore[return-value]
    if enrolment is not None:
        contents, progress_by_item = services.contents_and_progress(
            db_session, current_user, course
        )
    else:
        contents, progress_by_item = catalog.contents(db_session, course), {}
    progress: Any = progress_by_item.get(item.id)
    if services.is_first_view(enrolment, progress):
        # Only a first view writes; the write lock is taken for the write alone.
        with db.transaction() as write_session:
            services.record_view(write_session, current_user, course, item, enrolment=enrolment)
    kind = kind_of(item)
    return render_template(
        "learning/item.html",
        course=course,
        item=item,
        kind=kind,
        enrolment=enrolment,
        done=kind.is_done(progress),
        neighbours=services.neighbours(
            contents, item.id, progress_by_item if enrolment is not None else None
        ),
        **kind.context(db_session, item, current_user, enrolment),
    )


def _item(course: Course, item_id: int) -> Any:
    try:
        return catalog.item_of(db.session(), course, item_id)
    except NotFound:
        abort(404)


@bp.get("/courses/<slug>/items/<int:item_id>/file")
@login_required
def item_file(slug: str, item_id: int) -> Response:
    """A file item's file, for those who may open the item: learners enrolled
    in the course, its editors, and administrators whose organisation holds
    one of its trainers. Always a download (never shown inline), in the type
    its content was found to be when uploaded (vle/uploads.py)."""
    course, enrolment = _course_and_enrolment(slug)
    item = _item(course, item_id)
    stored = item.settings.get("file") if item.kind == "file" and item.settings else None
    if not isinstance(stored, dict):
        abort(404)
    if enrolment is None and not _staff_of(course):
        flash(_("Enrol in the course to open its items."), "info")
        return redirect(url_for("learning.course", slug=slug))
    try:
        path = uploads.stored_path(current_app.instance_path, str(stored.get("sha256", "")))
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    if enrolment is not None:
        progress = services.contents_and_progress(db.session(), current_user, course)[1]
        if services.is_first_view(enrolment, progress.get(item.id)):
            with db.transaction() as write_session:
                services.record_view(write_session, current_user, course, item, enrolment=enrolment)
    media_type = str(stored.get("type") or "application/octet-stream")
    response = send_file(
        path,
        mimetype=media_type,  # text/* gets "; charset=utf-8" from Werkzeug
        as_attachment=True,
        download_name=str(stored.get("name") or "file"),
        conditional=False,
        etag=False,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _staff_of(course: Course) -> bool:
    """Its editors, and an administrator whose organisation holds one of its trainers."""
    if course.can_edit(current_user):
        return True
    if current_user.role != "admin":
        return False
    return any(current_user.organisation.contains(t.organisation) for t in course.trainers)


@bp.post("/courses/<slug>/items/<int:item_id>/complete")
@db.reads_first
@login_required
def complete(slug: str, item_id: int) -> Response:
    course = _course(slug, with_items=False)
    contents = catalog.contents(db.session(), course)  # read before the write lock
    item = next((i for module in contents for i in module.items if i.id == item_id), None)
    if item is None:
        abort(404)
    # No form to validate: CSRFProtect has checked the token of every POST.
    now = utcnow()
    try:
        with db.transaction() as db_session:
            enrolment = services.complete_item(
                db_session, current_user, course, item, now, contents=contents
            )
    except DomainError as error:
        abort(error.status, error.message)
    nxt = services.neighbours(contents, item.id).next
    # Said before moving on: what was done, and where the learner now is.
    if nxt is not None:
        flash(
            _(
                "“%(title)s” marked as complete. Next: “%(next)s”.",
                title=item.title,
                next=nxt.title,
            ),
            "success",
        )
    else:
        flash(_("“%(title)s” marked as complete.", title=item.title), "success")
    if enrolment.completed_at == now:  # this completion completed the course
        flash(_("Well done: you have completed %(title)s.", title=course.title), "success")
    if nxt is not None:
        return redirect(url_for("learning.item", slug=slug, item_id=nxt.id))
    return redirect(url_for("learning.course", slug=slug))


@bp.get("/my")
@login_required
def my_learning() -> str:
    enrolments = services.my_enrolments(db.session(), current_user)
    notifications = mail.notifications_of(db.session(), current_user.id)
    return render_template(
        "learning/my.html",
        enrolments=enrolments,
        today=utcnow().date(),
        notifications=notifications,
    )
