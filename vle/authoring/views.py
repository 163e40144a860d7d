"""The trainer's home (/trainer/): My courses, and per course its learners'
progress, quiz downloads, completions by hand and attempt resets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, tzinfo
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from vle import db, inputs
from vle.authoring import courses, services
from vle.authoring.forms import GridFilterForm, ManualCompletionForm, ResetAttemptForm
from vle.catalog.models import Course
from vle.db import utcnow
from vle.errors import DomainError
from vle.quizzes.models import AnswerScope
from vle.reports.scope import download_name
from vle.reports.services import status_label, zone
from vle.reports.views import stream_download

bp = Blueprint("authoring", __name__, url_prefix="/trainer")


def nav_summary() -> tuple[bool, int]:
    """(teaches a course, essays waiting) for the navigation, once per request."""
    if "desk_summary" not in g:
        g.desk_summary = services.desk_summary(db.session(), current_user)
    return g.desk_summary


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"trainer_desk": nav_summary}


def _today() -> date:
    return utcnow().astimezone(_zone()).date()


def _zone() -> tzinfo:
    return zone(get_timezone())


def _address() -> str | None:
    return request.remote_addr


def _staff() -> None:
    if current_user.role not in ("trainer", "admin"):
        abort(403)


def _desk(slug: str) -> tuple[Course, AnswerScope]:
    _staff()
    return services.course_desk(db.session(), slug, current_user)


def _download(fmt: str, what: str, args: dict[str, Any], chunks: Iterator[bytes]) -> Response:
    """Streamed, named by its filters and the day ("progress-etika-aly-2026-12-07.csv")."""
    return stream_download(fmt, chunks, download_name(what, fmt, args, _today()))


@bp.get("/")
@login_required
def home() -> str:
    _staff()
    # My courses by status, and an administrator's organisations' courses (authoring/courses.py).
    mine = courses.home(db.session(), current_user, _today())
    followed = services.followed_courses(db.session(), current_user, _today())
    return render_template(
        "authoring/home.html", home=mine, followed=followed, status_name=courses.status_name
    )


def _grid(course: Course, scope: AnswerScope) -> tuple[GridFilterForm, Any, dict[str, str], int]:
    form = GridFilterForm(request.args)
    organisation, status, sort, direction, errors = services.parse_grid_args(
        request.args.get("organisation"),
        request.args.get("status"),
        request.args.get("sort"),
        request.args.get("direction"),
    )
    grid = services.progress_grid(
        db.session(),
        course,
        scope,
        _today(),
        organisation=organisation,
        status=status,
        sort=sort,
        direction=direction,
    )
    form.organisation.choices = [("", _("All organisations"))] + [
        (code, f"{name} ({code})") for code, name in grid.organisations
    ]
    form.status.choices = [("", _("Any status"))] + [
        (s, _("Overdue") if s == "overdue" else status_label(s)) for s in services.GRID_STATUSES
    ]
    for name, message in errors.items():
        getattr(form, name).errors = [*getattr(form, name).errors, message]
    args = {"organisation": organisation, "status": status, "sort": sort, "direction": direction}
    return form, grid, {k: v for k, v in args.items() if v}, 422 if errors else 200


def _course_page(
    course: Course,
    scope: AnswerScope,
    complete_form: ManualCompletionForm | None = None,
    reset_form: ResetAttemptForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    form, grid, args, grid_status = _grid(course, scope)
    quizzes = services.quiz_items(grid.items)
    attempts = (
        services.resettable_attempts(db.session(), course, scope, [q.id for q in quizzes])
        if scope.grades
        else []
    )
    complete_form = complete_form or ManualCompletionForm(formdata=None)
    reset_form = reset_form or ResetAttemptForm(formdata=None)
    titles = {q.id: q.title for q in quizzes}
    complete_form.learner.choices = [("", _("Choose a learner"))] + [
        (str(x.user_id), f"{x.name} ({x.email})")
        for x in services.participants(grid)
        if x.status != "completed"
    ]
    reset_form.attempt.choices = [("", _("Choose an attempt"))] + [
        (
            str(a.id),
            _(
                "%(name)s — %(quiz)s, attempt %(num)d",
                name=a.user.name,
                quiz=titles.get(a.item_id, ""),
                num=a.number,
            ),
        )
        for a in attempts
    ]
    return render_template(
        "authoring/course.html",
        course=course,
        scope=scope,
        form=form,
        grid=grid,
        args=args,
        participants=services.participants(grid),
        quizzes=quizzes,
        complete_form=complete_form,
        reset_form=reset_form,
        errors=[e for f in form for e in f.errors],
        cell_label=services.cell_label,
        status_label=status_label,
    ), max(status, grid_status)


@bp.get("/courses/<slug>")
@login_required
def course(slug: str) -> tuple[str, int]:
    course, scope = _desk(slug)
    return _course_page(course, scope)


@bp.get("/courses/<slug>/progress.<any(csv, xlsx):fmt>")
@bp.get("/courses/<slug>/progress-excel.csv", defaults={"fmt": "csv-excel"})
@db.reads_first
@login_required
def progress_download(slug: str, fmt: str) -> Any:
    course, scope = _desk(slug)
    form, grid, args, status = _grid(course, scope)
    if status != 200:
        return _course_page(course, scope)
    headers = services.grid_headers(grid)
    rows = list(services.grid_rows(grid, _zone()))
    # Said in the audit log's words: the filters, and the sort as the report's ("-": descending).
    sort = ("-" if args.get("direction") == "desc" else "") + args.get("sort", "name")
    shown = {k: v for k, v in args.items() if k in ("organisation", "status")}
    _record(course, "progress", fmt, {**shown, "sort": sort})
    return _download(
        fmt, "progress", {"course": course.slug, **shown},
        services.chunks(fmt, headers, rows, _("Progress")),
    )  # fmt: skip


@bp.get("/courses/<slug>/quizzes/<int:item_id>/<any(results, responses):what>.<any(csv, xlsx):fmt>")
@bp.get(
    "/courses/<slug>/quizzes/<int:item_id>/<any(results, responses):what>-excel.csv",
    defaults={"fmt": "csv-excel"},
)
@db.reads_first
@login_required
def quiz_download(slug: str, item_id: int, what: str, fmt: str) -> Any:
    course, scope = _desk(slug)
    db_session = db.session()
    item = services.quiz_of(db_session, course, item_id)
    if what == "results":
        headers, rows = services.results_download(db_session, current_user, course, item, _zone())
        sheet = _("Results")
    else:
        headers, rows = services.responses_download(db_session, current_user, course, item, scope)
        sheet = _("Responses")
    _record(course, what, fmt, {"quiz": str(item.id)})
    return _download(
        fmt, what, {"course": course.slug, "quiz": str(item.id)},
        services.chunks(fmt, headers, rows, sheet),
    )  # fmt: skip


def _record(course: Course, what: str, fmt: str, args: dict[str, str]) -> None:
    """The audit entry, in a short write of its own after the reads."""
    with db.transaction() as db_session:
        services.record_download(db_session, current_user, _address(), course, what, fmt, args)


def _posted_id(value: Any) -> int | None:
    """A chosen learner's or attempt's id from the form, or None when it is not
    one the database could hold (vle.inputs' one bound on ids)."""
    try:
        return inputs.as_id(int(value))
    except (TypeError, ValueError):
        return None


@bp.post("/courses/<slug>/complete")
@db.reads_first
@login_required
def complete(slug: str) -> Any:
    course, scope = _desk(slug)
    if not scope.grades:
        abort(403)
    form = ManualCompletionForm()
    learner_id = _posted_id(form.learner.data)
    if form.validate_on_submit():
        if learner_id is None:
            form.learner.errors = [_("Choose a learner.")]
        else:
            try:
                with db.transaction() as db_session:
                    services.complete_by_hand(
                        db_session, current_user, course, scope, learner_id,
                        form.reason.data, _address(),
                    )  # fmt: skip
            except services.FieldError as error:
                _field_error(form, error)
            else:
                flash(_("The learner's completion was recorded."), "success")
                return redirect(url_for("authoring.course", slug=course.slug))
    elif learner_id is None and not form.learner.errors:
        form.learner.errors = [_("Choose a learner.")]
    return _course_page(course, scope, complete_form=form, status=422)


@bp.post("/courses/<slug>/reset")
@db.reads_first
@login_required
def reset(slug: str) -> Any:
    course, scope = _desk(slug)
    if not scope.grades:
        abort(403)
    form = ResetAttemptForm()
    attempt_id = _posted_id(form.attempt.data)
    if form.validate_on_submit():
        if attempt_id is None:
            form.attempt.errors = [_("Choose an attempt.")]
        else:
            try:
                with db.transaction() as db_session:
                    services.reset_attempt(
                        db_session, current_user, course, scope, attempt_id,
                        form.reason.data, _address(),
                    )  # fmt: skip
            except services.FieldError as error:
                _field_error(form, error)
            else:
                flash(_("The attempt was reset: the learner may start again."), "success")
                return redirect(url_for("authoring.course", slug=course.slug))
    elif attempt_id is None and not form.attempt.errors:
        form.attempt.errors = [_("Choose an attempt.")]
    return _course_page(course, scope, reset_form=form, status=422)


def _field_error(form: Any, error: DomainError) -> None:
    name = getattr(error, "field", "reason")
    target = getattr(form, name, None) or form.reason
    target.errors = [*target.errors, str(error.message)]
