"""The trainer's editor, file items: upload, replace (issue 17, point 3)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from vle import db, uploads
from vle.authoring import editing, files
from vle.authoring.conflicts import conflict_page
from vle.authoring.file_forms import EditFileItemForm, FileItemForm
from vle.authoring.views import bp
from vle.catalog.models import Course, Item, Module


def _storage() -> files.Storage:
    return files.Storage(
        instance_path=current_app.instance_path,
        max_bytes=int(current_app.config["UPLOAD_MAX_MB"]) * 1024 * 1024,
    )


def _describe_file_field(form: FileItemForm) -> None:
    form.file.description = _(
        "PDF, an image (PNG, JPEG, GIF, WebP), audio or video (MP3, MP4, M4A), an office "
        "document (DOCX, XLSX, PPTX, ODT, ODS, ODP), plain text or CSV; at most %(limit)s MB. "
        "What a file is, is read from its content, not its name.",
        limit=current_app.config["UPLOAD_MAX_MB"],
    )


def _upload(form: FileItemForm) -> files.Upload | None:
    posted = form.file.data
    if posted is None or not getattr(posted, "filename", ""):
        return None
    return files.Upload(name=posted.filename, data=posted.read())


def _version(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _contents_url(course: Course) -> str:
    return url_for("authoring.contents", slug=course.slug)


def _page(
    form: FileItemForm, course: Course, module: Module, item: Item | None, status: int = 200
) -> tuple[str, int]:
    _describe_file_field(form)
    return render_template(
        "authoring/file_form.html",
        form=form,
        course=course,
        module=module,
        item=item,
        back=_contents_url(course),
    ), status


@bp.route("/courses/<slug>/modules/<int:module_id>/files/new", methods=["GET", "POST"])
@db.reads_first
@login_required
def add_file(slug: str, module_id: int) -> Any:
    course = editing.editable_course(db.session(), slug, current_user)
    module = editing.module_of(course, module_id)
    form = FileItemForm()
    if not form.validate_on_submit():
        return _page(form, course, module, None, 422 if request.method == "POST" else 200)
    upload = _upload(form)
    if upload is None:
        form.file.errors = [*form.file.errors, _("Choose a file to upload.")]
        return _page(form, course, module, None, 422)
    try:
        with db.transaction() as s:
            course = editing.editable_course(s, slug, current_user)
            module = editing.module_of(course, module_id)
            item = files.add_file(
                s, current_user, request.remote_addr, course, module,
                title=form.title.data.strip(), required=bool(form.required.data),
                description=form.description.data or "", upload=upload, storage=_storage(),
            )  # fmt: skip
            item_id = item.id
    except uploads.UploadRefused as refused:
        form.file.errors = [*form.file.errors, refused.message]
        return _page(form, course, module, None, 422)
    flash(_("The file “%(title)s” was added.", title=form.title.data.strip()), "success")
    return redirect(_contents_url(course) + f"#item-{item_id}")


def _their_form(item: Item) -> EditFileItemForm:
    return EditFileItemForm(
        formdata=None,
        data={
            "title": item.title,
            "required": item.required,
            "description": item.source,
            "version": str(item.version),
        },
    )


@bp.route("/courses/<slug>/files/<int:item_id>/edit", methods=["GET", "POST"])
@db.reads_first
@login_required
def edit_file(slug: str, item_id: int) -> Any:
    course = editing.editable_course(db.session(), slug, current_user)
    item = editing.item_of(course, item_id)
    if item.kind != "file":
        return redirect(url_for("authoring.edit_item", slug=slug, item_id=item_id))
    back = url_for("authoring.edit_file", slug=slug, item_id=item_id)
    if request.method == "GET":
        return _page(_their_form(item), course, item.module, item)
    form = EditFileItemForm()
    if not form.validate_on_submit():
        return _page(form, course, item.module, item, 422)
    try:
        with editing.saving(), db.transaction() as s:
            course = editing.editable_course(s, slug, current_user)
            item = editing.item_of(course, item_id)
            files.edit_file(
                s, current_user, request.remote_addr, course, item,
                based_on=_version(form.version.data), title=form.title.data.strip(),
                required=bool(form.required.data), description=form.description.data or "",
                upload=_upload(form), storage=_storage(),
            )  # fmt: skip
    except editing.EditConflict as conflict:
        current = conflict.current
        if not isinstance(current, Item):  # a racing save caught at flush: read it again
            db.session().expire_all()
            current = editing.item_of(
                editing.editable_course(db.session(), slug, current_user), item_id
            )
        return conflict_page(form, _their_form(current), current.version, back=back)
    except uploads.UploadRefused as refused:
        form.file.errors = [*form.file.errors, refused.message]
        return _page(form, course, item.module, item, 422)
    flash(_("The file “%(title)s” was saved.", title=form.title.data.strip()), "success")
    return redirect(_contents_url(course) + f"#item-{item_id}")
