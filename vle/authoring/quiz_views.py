"""The trainer's editor, quizzes: settings and the question-bank editor, GIFT paste and upload, question preview (issue 17, point 4)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user, login_required

from vle import db
from vle.authoring import editing
from vle.authoring.views import bp


@bp.route("/courses/<slug>/modules/<int:module_id>/quizzes/new", methods=["GET", "POST"])
@login_required
def add_quiz(slug: str, module_id: int) -> Any:
    course = editing.editable_course(db.session(), slug, current_user)
    module = editing.module_of(course, module_id)
    return render_template("authoring/quiz_stub.html", course=course, module=module, item=None)


@bp.route("/courses/<slug>/quizzes/<int:item_id>", methods=["GET", "POST"])
@login_required
def edit_quiz(slug: str, item_id: int) -> Any:
    course = editing.editable_course(db.session(), slug, current_user)
    item = editing.item_of(course, item_id)
    return render_template("authoring/quiz_stub.html", course=course, module=item.module, item=item)
