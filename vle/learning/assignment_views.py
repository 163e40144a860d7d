"""Assigning a course, for administrators and the course's trainers: the Assign
form, its dry run and confirmation, and the course's assignments with their
progress. The rules are the assignment service's (vle.learning.assignments)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from vle import db
from vle.accounts.models import Organisation, Role, User
from vle.accounts.services import tree_order
from vle.catalog import services as catalog
from vle.catalog.models import Course
from vle.db import utcnow
from vle.errors import DomainError, Forbidden, NotFound
from vle.learning import assignments, tasks
from vle.learning.forms import AssignForm
from vle.learning.models import Assignment

bp = Blueprint("assignments", __name__)

EVERY_ROLE = "any"


def _course(slug: str) -> Course:
    """The course, for someone who may assign it: 404 unseen, 403 otherwise."""
    try:
        course = catalog.course_for(db.session(), slug, current_user, with_items=False)
    except NotFound:
        abort(404)
    if not assignments.may_assign(current_user, course):
        abort(403)
    return course


def _organisations() -> list[tuple[Organisation, int]]:
    """The organisations in the actor's scope, in tree order."""
    query = select(Organisation)
    if not current_user.is_network_admin:
        query = query.where(
            Organisation.path.startswith(current_user.organisation.path, autoescape=True)
        )
    return tree_order(list(db.session().scalars(query)))


def _form(found: list[Any] | None = None) -> AssignForm:
    form = AssignForm()
    form.organisation.choices = [("", _("— the people listed below —"))] + [
        (org.code, "\u2003" * depth + org.name + f" ({org.code})")
        for org, depth in _organisations()
    ]
    form.role.choices = [
        (Role.LEARNER.value, _("Learners")),
        (Role.TRAINER.value, _("Trainers")),
        (Role.ADMIN.value, _("Administrators")),
        (EVERY_ROLE, _("Everyone")),
    ]
    form.chosen.choices = [(user.email, f"{user.name} <{user.email}>") for user in found or []]
    return form


@bp.get("/courses/<slug>/assign")
@login_required
def assign(slug: str) -> str:
    course = _course(slug)
    search = request.args.get("q", "")[:200]
    found = assignments.find_people(db.session(), current_user, search) if search else []
    form = _form(found)
    return render_template(
        "learning/assign.html", course=course, form=form, search=search, found=found, plan=None
    )


@bp.post("/courses/<slug>/assign")
@login_required
def assign_post(slug: str) -> Any:
    course = _course(slug)
    db_session = db.session()
    form = _form()
    form.chosen.choices = [(email, email) for email in request.form.getlist("chosen")]
    confirm = "confirm" in request.form

    def again(
        plan: Any = None, count: int | None = None, status: int = 422, sample: Any = ()
    ) -> Any:
        page = render_template(
            "learning/assign.html", course=course, form=form, search="", found=[], plan=plan,
            count=count, confirm_form=plan is not None or count is not None, sample=sample,
        )  # fmt: skip
        return page, status

    if not form.validate_on_submit():
        return again()
    try:
        due = assignments.parse_due(form.due.data or "")
    except DomainError as error:
        form.due.errors = [*form.due.errors, error.message]
        return again()
    entries = assignments.lines_of(form.people.data or "")
    entries += [(len(entries) + n, email) for n, email in enumerate(form.chosen.data or [], 1)]
    upload = form.csv_file.data
    if upload and getattr(upload, "filename", ""):
        try:
            entries += assignments.read_emails_csv(upload.read())
        except DomainError as error:
            form.csv_file.errors = [*form.csv_file.errors, error.message]
            return again()
    code = form.organisation.data or ""
    if bool(code) == bool(entries):
        form.people.errors = [
            *form.people.errors,
            _("Choose an organisation or list people, not both.")
            if code
            else _("Choose an organisation or list the people to assign."),
        ]
        return again()
    role = None if form.role.data == EVERY_ROLE else (form.role.data or Role.LEARNER.value)
    try:
        if code:
            organisation = assignments.organisation_by_code(db_session, code)
            if not confirm:
                count = assignments.plan_organisation(
                    db_session, current_user, course, organisation, role
                )
                sample = assignments.organisation_sample(
                    db_session, current_user, course, organisation, role
                )
                return again(count=count, status=200, sample=sample)
            assignment = assignments.assign_organisation(
                db_session, current_user, course, organisation, role, due, request.remote_addr
            )
            assignment_id = assignment.id
            db_session.commit()
            tasks.queue_fill(assignment_id)  # the worker enrols them (at once in tests)
            flash(
                _("The course is assigned to %(name)s: its people are being enrolled.",
                  name=organisation.name),
                "success",
            )  # fmt: skip
        else:
            if not confirm:
                plan = assignments.plan_people(db_session, current_user, course, entries)
                form.people.data = "\n".join(line.email for line in plan.valid)
                return again(plan=plan, status=200)
            assignment, plan = assignments.assign_people(
                db_session, current_user, course, entries, due, request.remote_addr
            )
            assignment_id = assignment.id
            db_session.commit()
            tasks.queue_fill(assignment_id)  # their mails, by the worker
            flash(_("The course is assigned to %(n)d people.", n=len(plan.valid)), "success")
    except Forbidden:
        db_session.rollback()
        abort(403)
    except DomainError as error:
        db_session.rollback()
        form.people.errors = [*form.people.errors, error.message]
        return again()
    return redirect(url_for("assignments.course_assignments", slug=course.slug))


@bp.get("/courses/<slug>/assignments")
@login_required
def course_assignments(slug: str) -> str:
    course = _course(slug)
    lines = assignments.course_assignments(db.session(), current_user, course)
    return render_template(
        "learning/assignments.html",
        course=course,
        lines=lines,
        today=utcnow().date(),
        reason_words=assignments.reason_words,
    )


PER_PAGE = 100


def _assignment(course: Course, assignment_id: int) -> Assignment:
    """An assignment of the course the user may manage: 404 or 403 otherwise."""
    assignment = db.session().get(Assignment, assignment_id)
    if assignment is None or assignment.course_id != course.id:
        abort(404)
    if not assignments.may_manage(current_user, assignment):
        abort(403)
    return assignment


@bp.get("/courses/<slug>/assignments/<int:assignment_id>")
@login_required
def assignment_people(slug: str, assignment_id: int) -> str:
    course = _course(slug)
    assignment = _assignment(course, assignment_id)
    page = request.args.get("page", 1, type=int) or 1
    people, total = assignments.assignment_people(db.session(), assignment, page, PER_PAGE)
    return render_template(
        "learning/assignment.html",
        course=course,
        assignment=assignment,
        people=people,
        total=total,
        page=max(1, page),
        pages=max(1, -(-total // PER_PAGE)),
        today=utcnow().date(),
    )


@bp.post("/courses/<slug>/participants/<int:user_id>/unenrol")
@login_required
def unenrol(slug: str, user_id: int) -> Response:
    course = _course(slug)
    db_session = db.session()
    user = db_session.get(User, user_id)
    if user is None:
        abort(404)
    try:
        assignments.unenrol(db_session, current_user, course, user, request.remote_addr)
    except Forbidden:
        db_session.rollback()
        abort(403)
    except NotFound:
        db_session.rollback()
        abort(404)
    db_session.commit()
    flash(
        _("%(name)s is unenrolled. Their progress and history are kept.", name=user.name),
        "success",
    )
    back = request.form.get("assignment", type=int)
    if back:
        return redirect(
            url_for("assignments.assignment_people", slug=course.slug, assignment_id=back)
        )
    return redirect(url_for("assignments.course_assignments", slug=course.slug))


@bp.post("/courses/<slug>/assignments/<int:assignment_id>/withdraw")
@login_required
def withdraw(slug: str, assignment_id: int) -> Response:
    course = _course(slug)
    db_session = db.session()
    assignment = _assignment(course, assignment_id)
    try:
        assignments.withdraw(db_session, current_user, assignment, request.remote_addr)
    except Forbidden:
        db_session.rollback()
        abort(403)
    db_session.commit()
    flash(_("The assignment is withdrawn. Enrolments and progress are kept."), "success")
    return redirect(url_for("assignments.course_assignments", slug=course.slug))
