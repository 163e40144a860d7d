"""The trainer's editor, a course as files: Download as .zip, Upload .zip (issue 17, point 7)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_login import current_user, login_required

from vle.authoring.views import bp


@bp.get("/courses/<slug>/course.zip")
@login_required
def download_zip(slug: str) -> Any:
    abort(404)  # the download is being built (helper E)


@bp.route("/upload", methods=["GET", "POST"])
@login_required
def upload_zip() -> Any:
    if current_user.role not in ("trainer", "admin"):
        abort(403)
    return render_template("authoring/upload_zip.html")
