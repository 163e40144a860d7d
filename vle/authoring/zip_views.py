"""The trainer's editor, a course as files: Download as .zip, Upload .zip
(issue 17, point 7). The rules are in vle/authoring/zips.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, Length

from vle import db
from vle.authoring import editing, zips
from vle.authoring.views import bp
from vle.errors import DomainError, Forbidden, NotFound
from vle.forms import Form


class UploadZipForm(Form):
    file = FileField(
        _l("Course zip"),
        validators=[FileRequired(_l("Choose a .zip file."))],
        description=_l(
            "A .zip of one course in the course library's layout, as Download as .zip makes it."
        ),
    )


class ConfirmZipForm(Form):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    version = IntegerField(validators=[DataRequired()])


def _address() -> str | None:
    return request.remote_addr


def _max_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024


def _uploader() -> None:
    if current_user.role not in ("trainer", "admin"):
        abort(403)


@bp.get("/courses/<slug>/course.zip")
@db.reads_first
@login_required
def download_zip(slug: str) -> Any:
    """The course as the zip of its files (whoever may read it in the editor)."""
    db_session = db.session()
    course = editing.readable_course(db_session, slug, current_user)
    archive = zips.course_zip(db_session, course, current_app.instance_path)
    with db.transaction() as write:
        editing.record(write, current_user, _address(), "download_zip", course, {"slug": slug})
    size = archive.seek(0, 2)
    archive.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := archive.read(256 * 1024):
                yield chunk
        finally:
            archive.close()

    response = Response(chunks(), mimetype="application/zip")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{course.slug}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _upload_page(
    form: UploadZipForm, problems: list[str] | None = None, refusal: str = "", status: int = 200
) -> tuple[str, int]:
    return render_template(
        "authoring/upload_zip.html",
        form=form,
        problems=problems or [],
        refusal=refusal,
        max_mb=current_app.config["UPLOAD_MAX_MB"],
        max_entries=zips.MAX_ENTRIES,
    ), status


def _confirm_page(
    prepared: zips.Prepared, token: str, notice: str = "", status: int = 200
) -> tuple[str, int]:
    assert prepared.course is not None
    form = ConfirmZipForm(formdata=None, token=token, version=prepared.course.version)
    return render_template(
        "authoring/upload_zip_confirm.html",
        form=form,
        course=prepared.course,
        summary=prepared.summary,
        notice=notice,
    ), status


@bp.route("/upload", methods=["GET", "POST"])
@db.reads_first
@login_required
def upload_zip() -> Any:
    """Upload .zip: a new slug creates the course at once; a known one shows
    what will change and waits for the confirmation (confirm_upload_zip)."""
    _uploader()
    form = UploadZipForm()
    if request.method == "GET":
        return _upload_page(form)
    if not form.validate_on_submit():
        return _upload_page(form, status=422)
    upload = form.file.data
    filename = upload.filename or "course.zip"
    with zips.workspace() as work:
        zip_path = work / "upload.zip"
        upload.save(zip_path)
        try:
            prepared = zips.prepare(
                db.session(), current_user, zip_path, filename, _max_bytes(), work
            )
        except zips.UploadInvalid as invalid:
            return _upload_page(form, problems=invalid.errors, status=422)
        except Forbidden as refused:
            return _upload_page(form, refusal=str(refused.message), status=403)
        except DomainError as refused:
            return _upload_page(form, refusal=str(refused.message), status=422)
        if prepared.course is not None:
            token = zips.keep_for_confirmation(
                current_app.instance_path, current_user, zip_path, filename
            )
            return _confirm_page(prepared, token)
        response = _apply(prepared, None)
    if response is None:  # a course of that address was made meanwhile
        return _upload_page(
            form,
            refusal=_("A course with this address was created meanwhile. Upload the zip again."),
            status=409,
        )
    return response


def _apply(prepared: zips.Prepared, based_on: int | None) -> Any:
    """Create or update the course; None when it changed meanwhile (a conflict)."""
    try:
        with editing.saving(), db.transaction() as db_session:
            course = zips.apply(
                db_session,
                current_user,
                prepared,
                current_app.instance_path,
                _address(),
                based_on,
            )
    except editing.EditConflict:
        return None
    except DomainError as refused:
        return _upload_page(UploadZipForm(formdata=None), refusal=str(refused.message), status=422)
    if prepared.course is None:
        flash(_("The course “%(title)s” was created from the zip.", title=course.title), "success")
    else:
        flash(_("The course “%(title)s” was updated from the zip.", title=course.title), "success")
    return redirect(url_for("authoring.contents", slug=course.slug))


@bp.post("/upload/confirm")
@db.reads_first
@login_required
def confirm_upload_zip() -> Any:
    """Apply a zip kept by upload_zip, checked again from scratch."""
    _uploader()
    form = ConfirmZipForm()
    if not form.validate_on_submit():
        return _upload_page(
            UploadZipForm(formdata=None),
            refusal=_("This upload has expired. Upload the zip again."),
            status=422,
        )
    token = form.token.data
    try:
        kept, filename = zips.waiting_zip(current_app.instance_path, current_user, token)
    except NotFound as expired:
        return _upload_page(UploadZipForm(formdata=None), refusal=str(expired.message), status=410)
    try:
        with zips.workspace() as work:
            prepared = zips.prepare(db.session(), current_user, kept, filename, _max_bytes(), work)
            response = _apply(prepared, form.version.data)
        if response is None and prepared.course is not None:
            # The course changed since the summary: show what the zip changes now.
            db.session().rollback()
            with zips.workspace() as work:
                prepared = zips.prepare(
                    db.session(), current_user, kept, filename, _max_bytes(), work
                )
            if prepared.course is not None:
                notice = _(
                    "Someone changed the course since you uploaded the zip. "
                    "This is what the zip changes now."
                )
                return _confirm_page(prepared, token, notice=notice, status=409)
    except zips.UploadInvalid as invalid:
        zips.forget(current_app.instance_path, current_user, token)
        return _upload_page(UploadZipForm(formdata=None), problems=invalid.errors, status=422)
    except DomainError as refused:
        zips.forget(current_app.instance_path, current_user, token)
        status = 403 if isinstance(refused, Forbidden) else 422
        return _upload_page(
            UploadZipForm(formdata=None), refusal=str(refused.message), status=status
        )
    if response is None:
        return _upload_page(
            UploadZipForm(formdata=None),
            refusal=_("The course changed meanwhile. Upload the zip again."),
            status=409,
        )
    zips.forget(current_app.instance_path, current_user, token)
    return response
