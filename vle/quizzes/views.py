"""Quiz pages: start an attempt, save answers, submit with a confirmation, the
result and review; for trainers the results of a quiz, the grading queue and
accommodations.

The open attempt itself is shown on the quiz's item page (learning's page with
this domain's kind template), so that opening the quiz again resumes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from vle import db
from vle.catalog import services as catalog
from vle.catalog.models import Course, Item
from vle.db import utcnow
from vle.errors import Conflict, DomainError, Forbidden, NotFound, json_error
from vle.learning import services as learning
from vle.learning.kinds import kind_of
from vle.quizzes import services
from vle.quizzes.forms import AccommodationForm, ActionForm
from vle.quizzes.kind import attempt_page, quiz_view
from vle.quizzes.models import Attempt

bp = Blueprint("quizzes", __name__)

ATTEMPT = "/courses/<slug>/items/<int:item_id>/attempts/<int:attempt_id>"


def _course(slug: str) -> Course:
    try:
        return catalog.course_for(db.session(), slug, current_user)
    except NotFound:
        abort(404)


def _quiz(course: Course, item_id: int) -> Item:
    try:
        item = catalog.item_in(course, item_id)
    except NotFound:
        abort(404)
    if item.kind != "quiz":
        abort(404)
    return item


def _own_attempt(item: Item, attempt_id: int) -> Attempt:
    try:
        attempt = services.attempt_for(db.session(), current_user, attempt_id)
    except NotFound:
        abort(404)
    if attempt.item_id != item.id:
        abort(404)
    return attempt


def _item_url(course: Course, item: Item, page: int | None = None) -> str:
    args: dict[str, Any] = {"slug": course.slug, "item_id": item.id}
    if page and page > 1:  # page 1 or none: the page last viewed, which a save records
        args["page"] = page
    return url_for("learning.item", **args)


def _result_url(course: Course, item: Item, attempt: Attempt) -> str:
    return url_for("quizzes.result", slug=course.slug, item_id=item.id, attempt_id=attempt.id)


def _check_csrf() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


# --------------------------------------------------------------------------- learner


@bp.post("/courses/<slug>/items/<int:item_id>/attempts")
@db.reads_first
@login_required
def start(slug: str, item_id: int) -> Response:
    """**Start attempt**: a new attempt, or the open one again."""
    course = _course(slug)
    item = _quiz(course, item_id)
    _check_csrf()
    # Read first; the write lock (SQLite) only for the writes (start_attempt).
    try:
        services.start_attempt(db.session(), current_user, course, item, writing=db.transaction)
    except DomainError as error:
        flash(str(error.message), "error")
    return redirect(_item_url(course, item), 303)


def _read_answer(entry: services.ShownQuestion, form: Any) -> Any:
    """A question's answer from the posted page, in the API's shape; None when
    the learner left it empty (which clears a saved answer)."""
    name = f"q{entry.question.id}"
    kind = entry.question.type
    if kind == "multiple_choice":
        chosen = form.getlist(name)
        return chosen or None
    if kind == "matching":
        stems = {
            stem["id"]: form.get(f"{name}-{stem['id']}") or None for stem in entry.public["stems"]
        }
        return stems if any(stems.values()) else None
    value = form.get(name)
    if value is None:
        return None
    if kind in {"short_answer", "numerical", "essay"}:
        return value if value.strip() else None
    return value or None


def _posted_ids(name: str) -> list[int]:
    """Question ids posted under `name`; 400 for one that is not a number."""
    try:
        return [int(raw) for raw in request.form.getlist(name)]
    except ValueError:
        abort(400)


def _posted_page(attempt: Attempt) -> tuple[list[services.ShownQuestion], dict[int, Any]]:
    """The questions the posted page showed, and their answers."""
    shown = services.shown_questions(db.session(), attempt)
    by_id = {entry.question.id: entry for entry in shown}
    on_page: list[services.ShownQuestion] = []
    for question_id in _posted_ids("shown"):
        entry = by_id.get(question_id)
        if entry is None:
            abort(422)
        if entry.gradable and entry not in on_page:
            on_page.append(entry)
    return on_page, {entry.question.id: _read_answer(entry, request.form) for entry in on_page}


def _form_page() -> int:
    try:
        return max(1, int(request.form.get("page", "1")))
    except ValueError:
        return 1


@bp.post(ATTEMPT + "/answers")
@login_required
def save_page(slug: str, item_id: int, attempt_id: int) -> Response | tuple[str, int]:
    """The attempt form without JavaScript: Save, Previous, Next or Submit post
    the page's answers, which are saved before anything else happens."""
    course = _course(slug)
    item = _quiz(course, item_id)
    _check_csrf()
    attempt = _own_attempt(item, attempt_id)
    db_session = db.session()
    now = utcnow()
    if services.close_if_overdue(db_session, attempt, now, course, item):
        db_session.commit()
        flash(_("The time was up. Your attempt was graded with the answers saved in time."), "info")
        return redirect(_result_url(course, item, attempt), 303)
    on_page, values = _posted_page(attempt)
    action = request.form.get("action", "save")
    try:
        services.save_answers(db_session, attempt, values, now)
    except services.AnswersInvalid as error:
        db_session.rollback()
        # The flags stand whatever the answers: the page shows them as ticked.
        services.set_flags(attempt, [entry.question.id for entry in on_page], _posted_ids("flag"))
        db_session.commit()
        return _item_page_with_errors(course, item, error.errors, values), 422
    except Conflict as error:
        db_session.rollback()
        flash(str(error.message), "error")
        return redirect(_result_url(course, item, attempt), 303)
    except DomainError as error:
        db_session.rollback()
        abort(error.status, str(error.message))
    if action == "timeup":  # the page's timer ran out: hand in what is there
        services.submit(db_session, attempt, course, item, now)
        db_session.commit()
        flash(_("The time is up. Your attempt has been submitted."), "info")
        return redirect(_result_url(course, item, attempt), 303)
    services.set_flags(attempt, [entry.question.id for entry in on_page], _posted_ids("flag"))
    page = _form_page()
    if action == "next":
        page += 1
    elif action == "previous":
        page -= 1
    elif action.startswith("page-"):
        try:
            page = int(action.removeprefix("page-"))
        except ValueError:
            page = 1
    services.remember_page(attempt, max(page, 1))
    db_session.commit()
    if action == "submit":
        return redirect(
            url_for("quizzes.confirm", slug=slug, item_id=item_id, attempt_id=attempt.id), 303
        )
    if action not in {"next", "previous"} and not action.startswith("page-"):
        flash(_("Your answers are saved."), "success")
    return redirect(_item_url(course, item, page), 303)


def _item_page_with_errors(
    course: Course, item: Item, errors: dict[int, str], posted: dict[int, Any]
) -> str:
    """The item page again, with the refused answers as typed and their errors."""
    db_session = db.session()
    enrolment = learning.enrolment_for(db_session, current_user, course)
    progress = learning.progress_by_item(db_session, current_user, course)
    kind = kind_of(item)
    view = quiz_view(
        db_session, course, item, current_user, enrolment, _form_page(), errors, posted
    )
    return render_template(
        "learning/item.html",
        course=course,
        item=item,
        kind=kind,
        enrolment=enrolment,
        done=kind.is_done(progress.get(item.id)),
        neighbours=learning.neighbours(catalog.contents(db_session, course), item.id),
        quiz=view,
    )


@bp.put(ATTEMPT + "/answers/<int:question_id>")
@login_required
def save_answer_json(slug: str, item_id: int, attempt_id: int, question_id: int) -> Any:
    """One answer saved in the background (quiz.js), as the API does it but with
    the session cookie and a CSRF header. Body {"answer": value}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "answer" not in body:
        return json_error(400, _('Send a JSON object with the answer: {"answer": ...}.'))

    def save(db_session: Session, attempt: Attempt, now: datetime) -> dict[str, Any]:
        saved_at = services.save_answer(
            db_session, attempt, question_id, body["answer"], now, locked=True
        )
        return {"saved_at": saved_at.isoformat().replace("+00:00", "Z")}

    return _in_background(item_id, attempt_id, save)


def _in_background(
    item_id: int, attempt_id: int, change: Callable[[Session, Attempt, datetime], dict[str, Any]]
) -> Any:
    """A change to an open attempt sent by quiz.js: `change(db_session, attempt,
    now)` gives the JSON to answer with; a DomainError it raises becomes a JSON
    error. The hot path of a quiz page: the attempt with its owner check and
    lock in one query; the course and the quiz are loaded only if time has run out."""
    db_session = db.session()
    try:
        attempt = services.lock_own_attempt(db_session, current_user, attempt_id)
        if attempt.item_id != item_id:
            raise NotFound(_("There is no such attempt."))
    except NotFound as error:
        return json_error(404, str(error.message))
    now = utcnow()
    if services.close_if_overdue(db_session, attempt, now):
        db_session.commit()
        return json_error(
            409, _("The time for this attempt is up; its answers can no longer change."), "conflict"
        )
    try:
        answer = change(db_session, attempt, now)
    except DomainError as error:
        db_session.rollback()
        return json_error(error.status, str(error.message), error.code)
    db_session.commit()
    return jsonify(answer)


@bp.put(ATTEMPT + "/flags/<int:question_id>")
@login_required
def save_flag_json(slug: str, item_id: int, attempt_id: int, question_id: int) -> Any:
    """**Flag for later** saved in the background (quiz.js), as an answer is.
    Body {"flagged": true|false}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("flagged"), bool):
        return json_error(400, _('Send a JSON object with the flag: {"flagged": true}.'))

    def flag(db_session: Session, attempt: Attempt, now: datetime) -> dict[str, Any]:
        services.flag_question(db_session, attempt, question_id, body["flagged"], now, locked=True)
        return {"flagged": question_id in attempt.flagged}

    return _in_background(item_id, attempt_id, flag)


@bp.get(ATTEMPT + "/submit")
@db.writes
@login_required
def confirm(slug: str, item_id: int, attempt_id: int) -> Any:
    """The confirmation step: what is answered and what is not, then **Submit**."""
    course = _course(slug)
    item = _quiz(course, item_id)
    attempt = _own_attempt(item, attempt_id)
    db_session = db.session()
    if services.close_if_overdue(db_session, attempt, utcnow(), course, item):
        db_session.commit()
    if attempt.finished:
        return redirect(_result_url(course, item, attempt))
    settings = services.QuizSettings.of(item)
    page = attempt_page(db_session, attempt, settings)
    return render_template(
        "quizzes/confirm.html", course=course, item=item, attempt=attempt, view=page,
        form=ActionForm(),
    )  # fmt: skip


@bp.post(ATTEMPT + "/submit")
@login_required
def submit(slug: str, item_id: int, attempt_id: int) -> Response:
    course = _course(slug)
    item = _quiz(course, item_id)
    _check_csrf()
    attempt = _own_attempt(item, attempt_id)
    db_session = db.session()
    services.submit(db_session, attempt, course, item, utcnow())
    db_session.commit()
    return redirect(_result_url(course, item, attempt), 303)


@bp.get(ATTEMPT)
@db.writes
@login_required
def result(slug: str, item_id: int, attempt_id: int) -> Any:
    """The result of a finished attempt: score as a percentage, passed or not,
    and the review as the quiz's settings allow. An open attempt is resumed."""
    course = _course(slug)
    item = _quiz(course, item_id)
    attempt = _own_attempt(item, attempt_id)
    db_session = db.session()
    if services.close_if_overdue(db_session, attempt, utcnow(), course, item):
        db_session.commit()
    if attempt.is_open:
        return redirect(_item_url(course, item))
    settings = services.QuizSettings.of(item)
    attempts = services.attempts_of(db_session, item, current_user)
    accommodation = services.accommodation_for(db_session, item, current_user)
    review = services.review_allowed(settings, attempt, attempts, accommodation)
    shown = services.shown_questions(db_session, attempt, with_review=review)
    return render_template(
        "quizzes/result.html",
        course=course,
        item=item,
        attempt=attempt,
        settings=settings,
        shown=shown,
        review=review,
        waiting=sum(1 for q in shown if q.answer is not None and q.answer.fraction is None),
        trainer_view=False,
    )


# --------------------------------------------------------------------------- trainers


def _quiz_item(item_id: int) -> tuple[Course, Item]:
    """Quiz `item_id` with its course, if the user may see the course, or 404."""
    try:
        course, item = catalog.course_and_item(db.session(), item_id, current_user)
    except NotFound:
        abort(404)
    if item.kind != "quiz":
        abort(404)
    return course, item


def _quiz_for_editor(item_id: int) -> tuple[Course, Item]:
    course, item = _quiz_item(item_id)
    if not course.can_edit(current_user):
        abort(403)
    return course, item


def _quiz_for_staff(item_id: int) -> tuple[Course, Item]:
    """A quiz whose results the user may see some of (AnswerScope), or 404/403."""
    course, item = _quiz_item(item_id)
    try:
        services.staff_scope(db.session(), current_user, course)
    except Forbidden:
        abort(403)
    return course, item


@bp.get("/trainer/quizzes/<int:item_id>/results")
@db.writes
@login_required
def results(item_id: int) -> str:
    """A quiz's attempts and scores, and per question the share who got it right,
    over the learners whose answers the user may see."""
    course, item = _quiz_for_staff(item_id)
    db_session = db.session()
    if services.close_overdue_of_item(db_session, course, item, utcnow()):
        db_session.commit()
    found = services.quiz_results(db_session, current_user, course, item)
    return render_template(
        "quizzes/results.html",
        course=course,
        item=item,
        results=found,
        settings=services.QuizSettings.of(item),
        is_editor=course.can_edit(current_user),
    )


@bp.get("/trainer/grading")
@login_required
def grading_queue() -> str:
    if not current_user.is_staff:
        abort(403)
    queue = services.grading_queue(db.session(), current_user)
    return render_template("quizzes/grading_queue.html", queue=queue)


def _read_grades(attempt_shown: list[services.ShownQuestion]) -> tuple[dict, dict[int, str]]:
    grades: dict[int, tuple[float, str]] = {}
    errors: dict[int, str] = {}
    for entry in attempt_shown:
        if entry.question.type != "essay" or entry.answer is None or not entry.answered:
            continue
        qid = entry.question.id
        raw = (request.form.get(f"mark-{qid}") or "").strip().replace(",", ".")
        comment = (request.form.get(f"comment-{qid}") or "").strip()
        if not raw:
            if entry.answer.fraction is None:
                continue  # left for later
            raw = str(100 * entry.answer.fraction)
        try:
            mark = float(raw)
        except ValueError:
            errors[qid] = _("Give the mark as a number from 0 to 100.")
            continue
        if not 0 <= mark <= 100:
            errors[qid] = _("Give the mark as a number from 0 to 100.")
            continue
        grades[qid] = (mark / 100, comment)
    return grades, errors


@bp.route("/trainer/attempts/<int:attempt_id>", methods=["GET", "POST"])
@db.writes
@login_required
def trainer_attempt(attempt_id: int) -> Any:
    """A learner's attempt as its trainers see it: every answer with its marks,
    and a mark and comment for each essay (for those who grade: AnswerScope)."""
    db_session = db.session()
    try:
        attempt, item, course, scope = services.learners_attempt(
            db_session, current_user, attempt_id
        )
    except NotFound:
        abort(404)
    except DomainError:
        abort(403)
    if services.close_if_overdue(db_session, attempt, utcnow(), course, item):
        db_session.commit()
    shown = services.shown_questions(db_session, attempt, with_review=True)
    errors: dict[int, str] = {}
    form = ActionForm()
    if request.method == "POST":
        if not scope.grades:
            abort(403)
        if not form.validate_on_submit():
            abort(400)
        grades, errors = _read_grades(shown)
        if not errors and grades:
            try:
                services.grade_essays(
                    db_session, current_user, attempt, grades, utcnow(), request.remote_addr
                )
            except DomainError as error:
                db_session.rollback()
                flash(str(error.message), "error")
            else:
                db_session.commit()
                flash(_("The marks are saved."), "success")
                return redirect(url_for("quizzes.trainer_attempt", attempt_id=attempt.id), 303)
    return render_template(
        "quizzes/trainer_attempt.html",
        course=course,
        item=item,
        attempt=attempt,
        settings=services.QuizSettings.of(item),
        shown=shown,
        errors=errors,
        form=form,
        grades=scope.grades,
    ), (422 if errors else 200)


@bp.route("/trainer/quizzes/<int:item_id>/accommodations", methods=["GET", "POST"])
@login_required
def accommodations(item_id: int) -> Any:
    """Per-learner extra time and extra attempts on one quiz."""
    course, item = _quiz_for_editor(item_id)
    db_session = db.session()
    form = AccommodationForm()
    status = 200
    if form.validate_on_submit():
        try:
            learner = services.course_learner(db_session, course, form.learner.data or "")
            services.set_accommodation(
                db_session,
                current_user,
                course,
                item,
                learner,
                form.extra_minutes.data or 0,
                form.extra_attempts.data or 0,
                form.note.data or "",
                request.remote_addr,
            )
        except DomainError as error:
            db_session.rollback()
            form.learner.errors.append(str(error.message))
        else:
            db_session.commit()
            flash(_("The accommodation for %(name)s is saved.", name=learner.name), "success")
            return redirect(url_for("quizzes.accommodations", item_id=item.id), 303)
    if form.errors or request.method == "POST":
        status = 422
    return render_template(
        "quizzes/accommodations.html",
        course=course,
        item=item,
        form=form,
        rows=services.accommodations_of(db_session, item),
    ), status
