"""The trainer's editor, the course: New course, Copy, the course's settings
and its publishing (issue 17, points 1, 2, 5). The rules are in
vle/authoring/courses.py; these views parse forms, check who may, and show."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vle import db
from vle.accounts.views import safe_next
from vle.authoring import courses, editing
from vle.authoring.conflicts import conflict_page
from vle.authoring.forms import (
    CopyCourseForm,
    CourseSettingsForm,
    NewCourseForm,
    StatusForm,
    settings_form,
)
from vle.authoring.services import FieldError
from vle.authoring.views import bp
from vle.catalog.models import Course
from vle.competencies.frameworks import LinkSpec
from vle.errors import DomainError


def _address() -> str | None:
    return request.remote_addr


def _staff() -> None:
    if current_user.role not in ("trainer", "admin"):
        abort(403)


def _version(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _field_error(form: Any, error: FieldError) -> None:
    target = getattr(form, error.field, None) or form.title
    target.errors = [*target.errors, str(error.message)]


# --------------------------------------------------------------------------- new course


@bp.route("/courses/new", methods=["GET", "POST"])
@db.reads_first
@login_required
def new_course() -> Any:
    _staff()
    form = NewCourseForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                with db.transaction() as db_session:
                    course = courses.create_course(
                        db_session,
                        current_user,
                        _address(),
                        title=form.title.data,
                        slug=form.slug.data,
                        language=form.language.data,
                        summary=form.summary.data or "",
                    )
                    slug = course.slug
            except FieldError as error:
                _field_error(form, error)
            else:
                flash(_("The course was made as a draft: add its content."), "success")
                return redirect(url_for("authoring.contents", slug=slug))
    return render_template("authoring/course_new.html", form=form), status


# --------------------------------------------------------------------------- copy


@bp.route("/courses/<slug>/copy", methods=["GET", "POST"])
@db.reads_first
@login_required
def copy_course(slug: str) -> Any:
    _staff()
    source = editing.readable_course(db.session(), slug, current_user)
    form = CopyCourseForm()
    status = 200
    if request.method == "GET":
        form.title.data = _("Copy of %(title)s", title=source.title)[: courses.TITLE_MAX]
    else:
        status = 422
        if form.validate_on_submit():
            try:
                with db.transaction() as db_session:
                    course = courses.copy_course(
                        db_session,
                        current_user,
                        _address(),
                        source,
                        title=form.title.data,
                        slug=form.slug.data,
                    )
                    new_slug = course.slug
            except FieldError as error:
                _field_error(form, error)
            else:
                flash(_("The copy was made as a draft, without learners."), "success")
                return redirect(url_for("authoring.contents", slug=new_slug))
    return render_template("authoring/course_copy.html", form=form, source=source), status


# --------------------------------------------------------------------------- settings


def _form_for(course: Course, **kwargs: Any) -> CourseSettingsForm:
    links = courses.course_links(db.session(), course)
    form = settings_form(courses.trainers_of(course), links, **kwargs)
    site = _("None: the site, %(name)s", name=current_app.config["SITE_NAME"])
    form.issuer.choices = [("", site)] + [
        (str(o.id), o.name) for o in courses.issuer_choices(db.session(), current_user, course)
    ]
    return form


def _saved_values(course: Course) -> dict[str, Any]:
    """The settings form's data as the course is saved now."""
    data: dict[str, Any] = {
        "version": str(course.version),
        "title": course.title,
        "summary": course.summary,
        "language": course.language,
        "enrolment_key": course.enrolment_key or "",
        "enrolment_key_hint": course.enrolment_key_hint,
        "starts": course.starts,
        "ends": course.ends,
        "validity_months": course.validity_months,
        "completion_rule": course.completion_rule,
        "hours": course.hours,
        "issuer": str(course.issuer_id or ""),
    }
    for competency, outcome in courses.course_links(db.session(), course):
        data[f"outcome_{competency.id}"] = outcome
    return data


def _posted_settings(form: CourseSettingsForm, course: Course) -> courses.Settings:
    links: list[LinkSpec] = []
    for competency, _outcome in courses.course_links(db.session(), course):
        if form[f"remove_competency_{competency.id}"].data:
            continue
        links.append(LinkSpec(competency.code, form[f"outcome_{competency.id}"].data))
    if (form.add_competency.data or "").strip():
        links.append(LinkSpec(form.add_competency.data.strip(), form.add_outcome.data))
    return courses.Settings(
        title=form.title.data or "",
        summary=form.summary.data or "",
        language=form.language.data,
        enrolment_key=form.enrolment_key.data,
        enrolment_key_hint=form.enrolment_key_hint.data or "",
        starts=form.starts.data,
        ends=form.ends.data,
        validity_months=form.validity_months.data,
        completion_rule=form.completion_rule.data,
        hours=form.hours.data,
        # A choice offered (the form checked it): an organisation's id, or "" for none.
        issuer_id=int(form.issuer.data) if form.issuer.data else None,
        remove_trainers=[t.id for t in course.trainers if form[f"remove_trainer_{t.id}"].data],
        add_trainer=form.add_trainer.data or "",
        links=links,
    )


def _settings_page(course: Course, form: CourseSettingsForm, status: int = 200) -> Any:
    links = courses.course_links(db.session(), course)
    return render_template(
        "authoring/course_settings.html",
        course=course,
        form=form,
        trainers=courses.trainers_of(course),
        links=links,
        moves=courses.moves(course),
    ), status


@bp.route("/courses/<slug>/settings", methods=["GET", "POST"])
@db.reads_first
@login_required
def settings(slug: str) -> Any:
    course = editing.editable_course(db.session(), slug, current_user)
    if request.method == "GET":
        return _settings_page(course, _form_for(course, formdata=None, data=_saved_values(course)))
    form = _form_for(course)
    if not form.validate_on_submit():
        return _settings_page(course, form, 422)
    values = _posted_settings(form, course)
    try:
        with editing.saving(), db.transaction() as db_session:
            changed = courses.save_settings(
                db_session, current_user, _address(), course, values, _version(form.version.data)
            )
    except editing.EditConflict:
        current = editing.editable_course(db.session(), slug, current_user)
        theirs = _form_for(current, formdata=None, data=_saved_values(current))
        return conflict_page(
            _form_for(current),
            theirs,
            current.version,
            back=url_for("authoring.settings", slug=slug),
        )
    except FieldError as error:
        _field_error(form, error)
        return _settings_page(course, form, 422)
    if changed:
        flash(_("The course's settings were saved."), "success")
    else:
        flash(_("Nothing had changed."), "info")
    return redirect(url_for("authoring.settings", slug=slug))


# --------------------------------------------------------------------------- publishing


def _status_done(status: str) -> str:
    if status == "published":
        return _("The course is published: learners find it in the catalogue.")
    if status == "archived":
        return _("The course is archived: its learners keep their records.")
    return _("The course is a draft again: only its editors see it.")


@bp.post("/courses/<slug>/status")
@db.reads_first
@login_required
def set_status(slug: str) -> Response | tuple[str, int]:
    course = editing.editable_course(db.session(), slug, current_user)
    back = safe_next(request.form.get("next"), url_for("authoring.settings", slug=slug))
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_("Choose a status offered on the page."), "error")
        return redirect(back)
    try:
        with editing.saving(), db.transaction() as db_session:
            courses.set_status(
                db_session,
                current_user,
                _address(),
                course,
                form.status.data,
                _version(form.version.data),
            )
    except editing.EditConflict:
        current = editing.editable_course(db.session(), slug, current_user)
        theirs = StatusForm(formdata=None, data={"status": current.status})
        return conflict_page(form, theirs, current.version, back=back)
    except DomainError as error:
        flash(str(error.message), "error")
        return redirect(back)
    flash(_status_done(form.status.data), "success")
    return redirect(back)
