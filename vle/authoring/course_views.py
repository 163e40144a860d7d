"""The trainer's editor, the course: trainer home's New course, Copy, settings, publishing (issue 17, points 1, 2, 5)."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import login_required

from vle.authoring.views import bp


@bp.route("/courses/new", methods=["GET", "POST"])
@login_required
def new_course() -> Any:
    abort(501)


@bp.route("/courses/<slug>/copy", methods=["GET", "POST"])
@login_required
def copy_course(slug: str) -> Any:
    abort(501)


@bp.route("/courses/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str) -> Any:
    abort(501)


@bp.post("/courses/<slug>/status")
@login_required
def set_status(slug: str) -> Any:
    abort(501)
