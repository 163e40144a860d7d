"""The trainer's message page: /courses/<slug>/message (the course's trainers only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from vle import db
from vle.catalog import services as catalog
from vle.errors import DomainError, NotFound
from vle.learning import messages

bp = Blueprint("messages", __name__)

LISTED = 200  # learners listed to choose from, at most


@bp.route("/courses/<slug>/message", methods=["GET", "POST"])
@login_required
def message(slug: str) -> Any:
    db_session = db.session()
    try:
        course = catalog.course_for(db_session, slug, current_user, with_items=False)
    except NotFound:
        abort(404)
    if not messages.may_message(current_user, course):
        abort(403)
    error = None
    form: dict[str, Any] = {"subject": "", "body": "", "to": "all", "chosen": set()}
    if request.method == "POST":  # CSRF checked by CSRFProtect
        to = request.form.get("to", "all")
        raw = request.form.getlist("learner")
        if not all(value.isdigit() for value in raw):
            abort(400)
        chosen = [int(value) for value in raw]
        form = {
            "subject": request.form.get("subject", ""),
            "body": request.form.get("body", ""),
            "to": to,
            "chosen": set(chosen),
        }
        try:
            count = messages.send_message(
                db_session, current_user, course, form["subject"], form["body"],
                None if to == "all" else chosen, request.remote_addr,
            )  # fmt: skip
        except DomainError as problem:
            db_session.rollback()
            error = problem.message
        else:
            db_session.commit()
            flash(
                ngettext(
                    "Your message was sent to %(num)d learner.",
                    "Your message was sent to %(num)d learners.",
                    count,
                ),
                "success",
            )
            return redirect(url_for("messages.message", slug=course.slug), 303)
    # Read only to show the page: a message sent reads no learner here (the
    # worker does). A course of a few learners lists them all to choose from;
    # a larger one those found by name or e-mail, a page's worth.
    count = messages.learner_count(db_session, course)
    search = " ".join(request.values.get("q", "").split())[:100]
    people: list[Any] = []
    if search or count <= LISTED:
        people = messages.learners(db_session, course, search, limit=LISTED + 1)
    return render_template(
        "learning/message.html",
        course=course,
        count=count,
        search=search,
        listed=LISTED,
        more=len(people) > LISTED,
        people=people[:LISTED],
        form=form,
        error=error,
        title=_("Message to learners"),
    ), (422 if error else 200)
