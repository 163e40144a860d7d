"""The trainer's editor, quizzes: settings and the question-bank editor, GIFT
paste and upload, question preview (issue 17, point 4). The rules are in
vle/authoring/question_bank.py; these views parse, ask and render."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vle import db
from vle.authoring import editing, question_bank
from vle.authoring.conflicts import conflict_page
from vle.authoring.quiz_forms import (
    AddQuizForm,
    DeleteQuestionForm,
    GiftForm,
    MoveQuestionForm,
    QuizSettingsForm,
    question_form,
)
from vle.authoring.views import bp
from vle.catalog.models import Course, Item
from vle.errors import Invalid
from vle.forms import Form
from vle.quizzes import questions as question_types
from vle.quizzes import services as quizzes
from vle.quizzes.gift import TYPES
from vle.quizzes.models import Question as QuestionRow

KINDS = "any(" + ", ".join(TYPES) + ")"
MAX_ROWS = 100


def _address() -> str | None:
    return request.remote_addr


def _course(slug: str) -> Course:
    """The course, for one of its editors: 403 for a learner, 404 for a course
    the user may not see, 403 for one they may only read."""
    if not current_user.is_staff:
        abort(403)
    return editing.editable_course(db.session(), slug, current_user)


def _quiz(slug: str, item_id: int) -> tuple[Course, Item]:
    course = _course(slug)
    return course, question_bank.quiz_of(course, item_id)


def _version(form: Form) -> int | None:
    raw = form["version"].data
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _reload(item_id: int) -> Item:
    """The quiz as saved now, after a racing save was caught at flush."""
    db_session = db.session()
    db_session.expire_all()
    item = db_session.get(Item, item_id)
    if item is None:
        abort(404)
    return item


def _current(conflict: editing.EditConflict, item_id: int) -> Item:
    """The quiz as saved now, from a conflict."""
    current = conflict.current
    return current if isinstance(current, Item) else _reload(item_id)


def _field_errors(form: Form, errors: dict[str, Any], fallback: str) -> None:
    for name, message in errors.items():
        target = form[name] if name in form else form[fallback]
        target.errors = [*target.errors, str(message)]


def _quiz_url(course: Course, item: Item, anchor: str | None = None) -> str:
    return url_for("authoring.edit_quiz", slug=course.slug, item_id=item.id, _anchor=anchor)


def _contents_url(course: Course, item: Item | None = None) -> str:
    return url_for(
        "authoring.contents", slug=course.slug, _anchor=f"item-{item.id}" if item else None
    )


def _gift_limit() -> int:
    megabytes = current_app.config.get("UPLOAD_MAX_MB")
    if megabytes:
        return int(float(megabytes) * 1024 * 1024)
    return question_bank.GIFT_MAX_BYTES


# --------------------------------------------------------------------------- add a quiz


def _settings_data(item: Item) -> dict[str, Any]:
    return {
        "title": item.title,
        "required": item.required,
        "version": item.version,
        **question_bank.settings_of(item),
    }


@bp.route("/courses/<slug>/modules/<int:module_id>/quizzes/new", methods=["GET", "POST"])
@db.reads_first
@login_required
def add_quiz(slug: str, module_id: int) -> Any:
    course = _course(slug)
    module = editing.module_of(course, module_id)
    form = AddQuizForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                item = question_bank.add_quiz(
                    db_session, current_user, _address(), course, module,
                    form.title.data, form.required.data, form.values(),
                )  # fmt: skip
        except question_bank.SettingsInvalid as error:
            _field_errors(form, error.errors, "title")
        else:
            flash(_("The quiz was added. Now add its questions."), "success")
            return redirect(_quiz_url(course, item))
    status = 422 if form.errors else 200
    return render_template(
        "authoring/quiz_add.html", course=course, module=module, form=form
    ), status


# --------------------------------------------------------------------------- the quiz editor


def _quiz_page(
    course: Course,
    item: Item,
    settings_form: QuizSettingsForm | None = None,
    gift_form: GiftForm | None = None,
    gift_errors: list[tuple[int, str]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    rows = question_bank.rows_of(db.session(), item)
    if settings_form is None:
        settings_form = QuizSettingsForm(formdata=None, data=_settings_data(item))
    if gift_form is None:
        gift_form = GiftForm(formdata=None, data={"version": item.version, "mode": "append"})
    numbers: dict[int, int] = {}
    for row in rows:
        if quizzes.is_gradable(row):
            numbers[row.id] = len(numbers) + 1
    return render_template(
        "authoring/quiz_edit.html",
        course=course,
        item=item,
        form=settings_form,
        gift_form=gift_form,
        gift_errors=gift_errors or [],
        rows=rows,
        numbers=numbers,
        types=TYPES,
        type_label=question_types.type_label,
    ), status


@bp.route("/courses/<slug>/quizzes/<int:item_id>", methods=["GET", "POST"])
@db.reads_first
@login_required
def edit_quiz(slug: str, item_id: int) -> Any:
    course, item = _quiz(slug, item_id)
    if request.method == "GET":
        return _quiz_page(course, item)
    form = QuizSettingsForm()
    if form.validate_on_submit():
        try:
            with editing.saving(), db.transaction() as db_session:
                question_bank.save_settings(
                    db_session, current_user, _address(), course, item, _version(form),
                    form.title.data, form.required.data, form.values(),
                )  # fmt: skip
        except editing.EditConflict as conflict:
            current = _current(conflict, item.id)
            theirs = QuizSettingsForm(formdata=None, data=_settings_data(current))
            return conflict_page(form, theirs, current.version, _quiz_url(course, item))
        except question_bank.SettingsInvalid as error:
            _field_errors(form, error.errors, "title")
        else:
            flash(_("The quiz settings were saved."), "success")
            return redirect(_quiz_url(course, item))
    return _quiz_page(course, item, settings_form=form, status=422)


@bp.post("/courses/<slug>/quizzes/<int:item_id>/gift")
@db.reads_first
@login_required
def import_gift(slug: str, item_id: int) -> Any:
    course, item = _quiz(slug, item_id)
    form = GiftForm()
    if not form.validate_on_submit():
        return _quiz_page(course, item, gift_form=form, status=422)
    upload: Any = form.gift_file.data
    chosen = bool(upload is not None and getattr(upload, "filename", None))
    pasted = (form.gift.data or "").strip()
    try:
        if chosen:
            if pasted:
                raise question_bank.GiftInvalid([(0, _("Paste GIFT or choose a file, not both."))])
            limit = _gift_limit()
            text = question_bank.gift_text(upload.read(limit + 1), limit)
            form.gift.data = text
        elif pasted:
            text = form.gift.data
        else:
            raise question_bank.GiftInvalid([(0, _("Paste GIFT or choose a file."))])
        with editing.saving(), db.transaction() as db_session:
            count = question_bank.import_gift(
                db_session, current_user, _address(), course, item, _version(form),
                text, form.mode.data == "replace",
            )  # fmt: skip
    except editing.EditConflict as conflict:
        current = _current(conflict, item.id)
        theirs = GiftForm(formdata=None, data={"gift": current.source, "mode": form.mode.data})
        return conflict_page(form, theirs, current.version, _quiz_url(course, item, "gift-import"))
    except question_bank.GiftInvalid as error:
        form.gift.errors = [*form.gift.errors, _("The GIFT has errors: nothing was changed.")]
        return _quiz_page(course, item, gift_form=form, gift_errors=error.errors, status=422)
    if form.mode.data == "replace":
        message = _("The questions were replaced by the %(count)d read from the GIFT.", count=count)
    else:
        message = _("%(count)d questions were added from the GIFT.", count=count)
    flash(message, "success")
    return redirect(_quiz_url(course, item, "questions"))


# --------------------------------------------------------------------------- questions


def _posted_rows(kind: str) -> int:
    """How many rows of answers the posted form had (at least the form's minimum)."""
    numbers = [
        int(m.group(1))
        for key in request.form
        if (m := re.fullmatch(r"(?:answer|pair)_(\d{1,3})_[a-z]+", key))
    ]
    return min(MAX_ROWS, max([question_bank.row_count(kind, None), *numbers]))


def _question_page(
    course: Course,
    item: Item,
    kind: str,
    form: Form,
    row: QuestionRow | None,
    status: int,
) -> tuple[str, int]:
    return render_template(
        "authoring/question_form.html",
        course=course,
        item=item,
        kind=kind,
        form=form,
        row=row,
        type_label=question_types.type_label,
        rows=_form_rows(kind, form),
    ), status


def _form_rows(kind: str, form: Form) -> list[list[Any]]:
    """The form's answer (or pair) fields, row by row."""
    prefix = "pair" if kind == "matching" else "answer"
    rows: dict[int, list[Any]] = {}
    for field in form:
        match = re.fullmatch(rf"{prefix}_(\d+)_[a-z]+", field.name)
        if match:
            rows.setdefault(int(match.group(1)), []).append(field)
    return [rows[n] for n in sorted(rows)]


def _save_question(
    course: Course, item: Item, kind: str, form: Form, row: QuestionRow | None
) -> Any:
    """Check and save a posted question form; the page again on a problem."""
    original = quizzes.parsed(row) if row is not None else None
    if form.validate_on_submit():
        values = {field.name: field.data for field in form if field.name != "csrf_token"}
        try:
            question = question_bank.question_from_form(kind, values, original)
            with editing.saving(), db.transaction() as db_session:
                saved = question_bank.save_question(
                    db_session, current_user, _address(), course, item, _version(form),
                    question, row.id if row is not None else None,
                )  # fmt: skip
        except editing.EditConflict as conflict:
            current = _current(conflict, item.id)
            db_session = db.session()
            now = db_session.get(QuestionRow, row.id) if row is not None else None
            data = question_bank.form_values(quizzes.parsed(now)) if now is not None else {}
            theirs = type(form)(formdata=None, data=data)
            back = (
                url_for(
                    "authoring.edit_question", slug=course.slug, item_id=item.id, question_id=row.id
                )
                if row is not None
                else _quiz_url(course, item, "questions")
            )
            return conflict_page(form, theirs, current.version, back)
        except question_bank.QuestionInvalid as error:
            _field_errors(form, error.errors, "text")
        except Invalid as error:
            form["text"].errors = [*form["text"].errors, str(error.message)]
        else:
            flash(_("The question was saved."), "success")
            if "keep_editing" in request.form:
                return redirect(
                    url_for(
                        "authoring.edit_question",
                        slug=course.slug,
                        item_id=item.id,
                        question_id=saved.id,
                    )  # fmt: skip
                )
            return redirect(_quiz_url(course, item, f"question-{saved.id}"))
    return _question_page(course, item, kind, form, row, 422)


@bp.route(
    f"/courses/<slug>/quizzes/<int:item_id>/questions/new/<{KINDS}:kind>", methods=["GET", "POST"]
)
@db.reads_first
@login_required
def add_question(slug: str, item_id: int, kind: str) -> Any:
    course, item = _quiz(slug, item_id)
    if request.method == "GET":
        form_class = question_form(kind, question_bank.row_count(kind, None))
        form = form_class(formdata=None, data={"version": item.version, "text_format": "moodle"})
        return _question_page(course, item, kind, form, None, 200)
    form = question_form(kind, _posted_rows(kind))()
    return _save_question(course, item, kind, form, None)


def _question(item: Item, question_id: int) -> tuple[QuestionRow, str]:
    row = question_bank.row_of(db.session(), item, question_id)
    if row.type not in TYPES:
        abort(404)
    return row, row.type


@bp.route(
    "/courses/<slug>/quizzes/<int:item_id>/questions/<int:question_id>", methods=["GET", "POST"]
)
@db.reads_first
@login_required
def edit_question(slug: str, item_id: int, question_id: int) -> Any:
    course, item = _quiz(slug, item_id)
    row, kind = _question(item, question_id)
    spec = quizzes.parsed(row)
    if request.method == "GET":
        form_class = question_form(kind, question_bank.row_count(kind, spec))
        data = {**question_bank.form_values(spec), "version": item.version}
        return _question_page(course, item, kind, form_class(formdata=None, data=data), row, 200)
    rows = max(_posted_rows(kind), question_bank.row_count(kind, None))
    return _save_question(course, item, kind, question_form(kind, rows)(), row)


@bp.get("/courses/<slug>/quizzes/<int:item_id>/questions/<int:question_id>/preview")
@login_required
def preview_question(slug: str, item_id: int, question_id: int) -> Any:
    course, item = _quiz(slug, item_id)
    row, _kind = _question(item, question_id)
    rows = question_bank.rows_of(db.session(), item)
    number = sum(1 for r in rows if r.position <= row.position and quizzes.is_gradable(r))
    entry = quizzes.preview_question(row, number)
    return render_template(
        "authoring/question_preview.html",
        course=course,
        item=item,
        row=row,
        entry=entry,
        key=question_bank.answer_key(row),
        type_label=question_types.type_label,
    )


@bp.post("/courses/<slug>/quizzes/<int:item_id>/questions/<int:question_id>/move")
@db.reads_first
@login_required
def move_question(slug: str, item_id: int, question_id: int) -> Response:
    course, item = _quiz(slug, item_id)
    row, _kind = _question(item, question_id)
    form = MoveQuestionForm()
    if not form.validate_on_submit() or form.direction.data not in ("up", "down"):
        abort(400)
    with db.transaction() as db_session:
        question_bank.move_question(
            db_session, current_user, _address(), course, item, row.id, form.direction.data
        )
    return redirect(_quiz_url(course, item, f"question-{question_id}"))


@bp.route(
    "/courses/<slug>/quizzes/<int:item_id>/questions/<int:question_id>/delete",
    methods=["GET", "POST"],
)
@db.reads_first
@login_required
def delete_question(slug: str, item_id: int, question_id: int) -> Any:
    course, item = _quiz(slug, item_id)
    row, _kind = _question(item, question_id)
    answered = question_bank.answered_by(db.session(), row.id)
    status, notice = 200, None
    if request.method == "POST":
        form = DeleteQuestionForm()
        if form.validate_on_submit():
            try:
                with editing.saving(), db.transaction() as db_session:
                    question_bank.delete_question(
                        db_session, current_user, _address(), course, item, _version(form), row.id
                    )
            except editing.EditConflict:
                item = _reload(item.id)
                status = 409
                notice = _(
                    "Someone else saved this quiz since you opened this page. Nothing was "
                    "deleted: check the question below and delete it again if you still want to."
                )
            except Invalid as error:
                status, notice = 422, str(error.message)
            else:
                flash(_("The question was deleted."), "success")
                return redirect(_quiz_url(course, item, "questions"))
        else:
            status = 422
    form = DeleteQuestionForm(formdata=None, data={"version": item.version})
    return render_template(
        "authoring/question_delete.html",
        course=course,
        item=item,
        row=row,
        answered=answered,
        form=form,
        notice=notice,
        type_label=question_types.type_label,
    ), status
