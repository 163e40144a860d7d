"""The trainer's editor, modules and items: add, edit, reorder, move, delete;
lessons and links (issue 17, point 3). The rules are in
vle/authoring/contents.py; these views parse, ask, and render."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from vle import db
from vle.authoring import contents, editing
from vle.authoring.conflicts import conflict_page
from vle.authoring.content_forms import ItemForm, LinkForm, ModuleForm
from vle.authoring.views import bp
from vle.catalog.models import Course, Item, Module
from vle.errors import DomainError
from vle.sanitize import wrap_tables

EDITORS = {"file": "authoring.edit_file", "quiz": "authoring.edit_quiz"}
# Up to this many modules, each item on the contents page has its own "Move
# to module" list; beyond, it links to a page with the list (40 modules ×
# 1,000 items would make the page megabytes of options).
MOVE_INLINE = 12


def _address() -> str | None:
    return request.remote_addr


def _course(slug: str, *, edit: bool = True, whole: bool = False) -> Course:
    if not current_user.is_staff:
        abort(403)
    return contents.course_for_editor(db.session(), slug, current_user, edit=edit, contents=whole)


def _contents_url(course: Course, anchor: str | None = None) -> str:
    return url_for("authoring.contents", slug=course.slug, _anchor=anchor)


def link_to(endpoint: str, **values: Any) -> str | None:
    """The URL of another area's page, or None while that area has none."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _edit_url(course: Course, item: Any) -> str | None:
    endpoint = EDITORS.get(item.kind, "authoring.edit_item")
    return link_to(endpoint, slug=course.slug, item_id=item.id)


# --------------------------------------------------------------------------- the page


@bp.get("/courses/<slug>/contents", endpoint="contents")
@login_required
def contents_page(slug: str) -> str:
    course = _course(slug, edit=False, whole=True)
    return render_template(
        "authoring/contents.html",
        course=course,
        move_inline=len(course.modules) <= MOVE_INLINE,
        may_edit=course.can_edit(current_user),
        kind_name=contents.kind_name,
        edit_url=_edit_url,
        link_to=link_to,
    )


# --------------------------------------------------------------------------- modules


def _module_form_page(course: Course, form: ModuleForm, module: Module | None, status: int) -> Any:
    return render_template(
        "authoring/module_form.html", course=course, form=form, module=module
    ), status


@bp.route("/courses/<slug>/modules/new", methods=["GET", "POST"])
@db.reads_first
@login_required
def add_module(slug: str) -> Any:
    course = _course(slug)
    form = ModuleForm()
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                module = contents.add_module(
                    db_session, current_user, _address(), course, form.title.data or ""
                )
        except contents.FieldError as error:
            form.title.errors = [*form.title.errors, error.message]
        else:
            flash(_("The module was added."), "success")
            return redirect(_contents_url(course, f"module-{module.id}"))
    return _module_form_page(course, form, None, 422 if form.errors else 200)


@bp.route("/courses/<slug>/modules/<int:module_id>/edit", methods=["GET", "POST"])
@db.reads_first
@login_required
def edit_module(slug: str, module_id: int) -> Any:
    course = _course(slug)
    module = contents.module_in(course, module_id)
    if request.method == "GET":
        form = ModuleForm(formdata=None, data={"title": module.title, "version": module.version})
        return _module_form_page(course, form, module, 200)
    form = ModuleForm()
    if form.validate_on_submit():
        back = url_for("authoring.edit_module", slug=course.slug, module_id=module.id)
        try:
            with editing.saving(), db.transaction() as db_session:
                contents.edit_module(
                    db_session, current_user, _address(), course, module,
                    form.title.data or "", form.version.data,
                )  # fmt: skip
        except editing.EditConflict as conflict:
            current = conflict.current or _reload(course.slug, module_id=module.id)
            theirs = ModuleForm(formdata=None, data={"title": current.title})
            return conflict_page(form, theirs, current.version, back)
        except contents.FieldError as error:
            form.title.errors = [*form.title.errors, error.message]
        else:
            flash(_("The module was saved."), "success")
            return redirect(_contents_url(course, f"module-{module.id}"))
    return _module_form_page(course, form, module, 422)


def _reload(slug: str, *, module_id: int | None = None, item_id: int | None = None) -> Any:
    """The object as saved now, after a racing save was caught at flush."""
    db_session = db.session()
    db_session.expire_all()
    course = contents.course_for_editor(db_session, slug, current_user)
    if module_id is not None:
        return contents.module_in(course, module_id)
    assert item_id is not None
    return contents.item_in(db_session, course, item_id)


@bp.post("/courses/<slug>/modules/<int:module_id>/move")
@db.reads_first
@login_required
def move_module(slug: str, module_id: int) -> Response:
    course = _course(slug)
    module = contents.module_in(course, module_id)
    direction = request.form.get("direction", "")
    try:
        with db.transaction() as db_session:
            moved = contents.move_module(
                db_session, current_user, _address(), course, module, direction
            )
    except DomainError as error:
        flash(error.message, "error")
    else:
        if moved:
            flash(_("The module was moved."), "success")
    return redirect(_contents_url(course, f"module-{module_id}"))


@bp.route("/courses/<slug>/modules/<int:module_id>/delete", methods=["GET", "POST"])
@db.reads_first
@login_required
def delete_module(slug: str, module_id: int) -> Any:
    course = _course(slug)
    module = contents.module_in(course, module_id)
    if request.method == "POST":
        try:
            with editing.saving(), db.transaction() as db_session:
                contents.delete_module(db_session, current_user, _address(), course, module)
        except editing.EditConflict:
            flash(_("Someone changed this module meanwhile: look again before deleting."), "error")
            return redirect(url_for("authoring.delete_module", slug=slug, module_id=module_id))
        except DomainError as error:
            flash(error.message, "error")
            return redirect(_contents_url(course, f"module-{module_id}"))
        flash(_("The module was deleted."), "success")
        return redirect(_contents_url(course))
    return render_template(
        "authoring/delete_confirm.html",
        course=course,
        what="module",
        title=module.title,
        items=list(module.items),
        losses=contents.losses(db.session(), list(module.items)),
        last=len(course.modules) <= 1,
        action=url_for("authoring.delete_module", slug=slug, module_id=module_id),
    )


# --------------------------------------------------------------------------- items


def _form_class(kind: str) -> type[ItemForm]:
    return LinkForm if kind == "link" else ItemForm


def _item_data(item: Item) -> dict[str, Any]:
    data = {
        "title": item.title,
        "required": item.required,
        "minutes": item.minutes,
        "source": item.source,
        "version": item.version,
    }
    if item.kind == "link":
        data["url"] = (item.settings or {}).get("url", "")
    return data


def _input(form: ItemForm) -> contents.ItemInput:
    return contents.ItemInput(
        title=form.title.data or "",
        required=bool(form.required.data),
        minutes=form.minutes.data,
        source=form.source.data or "",
        url=form.url.data if isinstance(form, LinkForm) else None,
    )


def _item_form_page(
    course: Course,
    module: Module,
    kind: str,
    form: ItemForm,
    item: Item | None,
    status: int = 200,
    preview: str | None = None,
) -> Any:
    return render_template(
        "authoring/item_form.html",
        course=course,
        module=module,
        kind=kind,
        form=form,
        item=item,
        preview=preview,
        preview_url=url_for("authoring.preview_lesson", slug=course.slug),
    ), status


def _previewing() -> bool:
    return request.form.get("action") == "preview"


def _field_error(form: ItemForm, error: contents.FieldError) -> None:
    target = getattr(form, error.field, None) or form.title
    target.errors = [*target.errors, error.message]


@bp.route(
    "/courses/<slug>/modules/<int:module_id>/items/new/<any(lesson, link):kind>",
    methods=["GET", "POST"],
)
@db.reads_first
@login_required
def add_item(slug: str, module_id: int, kind: str) -> Any:
    course = _course(slug)
    module = contents.module_in(course, module_id)
    form = _form_class(kind)()
    if request.method == "POST" and _previewing():
        preview = contents.render_markdown(form.source.data)
        return _item_form_page(course, module, kind, form, None, preview=preview)
    if form.validate_on_submit():
        try:
            with db.transaction() as db_session:
                item = contents.add_item(
                    db_session, current_user, _address(), course, module, kind, _input(form)
                )
        except contents.FieldError as error:
            _field_error(form, error)
        else:
            flash(
                _("The lesson was added.") if kind == "lesson" else _("The link was added."),
                "success",
            )
            return redirect(_contents_url(course, f"item-{item.id}"))
    return _item_form_page(course, module, kind, form, None, 422 if form.errors else 200)


@bp.route("/courses/<slug>/items/<int:item_id>/edit", methods=["GET", "POST"])
@db.reads_first
@login_required
def edit_item(slug: str, item_id: int) -> Any:
    course = _course(slug)
    item = contents.item_in(db.session(), course, item_id)
    if item.kind not in ("lesson", "link"):
        other = _edit_url(course, item)
        if other is None:
            abort(404)
        return redirect(other)
    form_class = _form_class(item.kind)
    if request.method == "GET":
        form = form_class(formdata=None, data=_item_data(item))
        return _item_form_page(course, item.module, item.kind, form, item)
    form = form_class()
    if _previewing():
        preview = contents.render_markdown(form.source.data)
        return _item_form_page(course, item.module, item.kind, form, item, preview=preview)
    if form.validate_on_submit():
        back = url_for("authoring.edit_item", slug=course.slug, item_id=item.id)
        try:
            with editing.saving(), db.transaction() as db_session:
                contents.edit_item(
                    db_session, current_user, _address(), course, item,
                    form.version.data, _input(form),
                )  # fmt: skip
        except editing.EditConflict as conflict:
            current = conflict.current or _reload(course.slug, item_id=item.id)
            assert isinstance(current, Item)
            theirs = form_class(formdata=None, data=_item_data(current))
            return conflict_page(form, theirs, current.version, back)
        except contents.FieldError as error:
            _field_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(_contents_url(course, f"item-{item.id}"))
    return _item_form_page(course, item.module, item.kind, form, item, 422)


@bp.post("/courses/<slug>/preview")
@db.reads_first
@login_required
def preview_lesson(slug: str) -> Response:
    """Markdown → the HTML learners would get (the one sanitising policy), as
    a fragment for the editor's live preview."""
    _course(slug)
    source = request.form.get("source", "")
    response = make_response(wrap_tables(contents.render_markdown(source)))
    response.mimetype = "text/html"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/courses/<slug>/items/<int:item_id>/move", methods=["GET", "POST"])
@db.reads_first
@login_required
def move_item(slug: str, item_id: int) -> Any:
    """POST: up, down (`direction`) or to module `module` (`direction` =
    "module"). GET: the page that offers the modules, for a course with
    more than the contents page lists beside every item."""
    course = _course(slug)
    item = contents.item_in(db.session(), course, item_id, siblings=True)
    if request.method == "GET":
        return render_template("authoring/move_item.html", course=course, item=item)
    direction = request.form.get("direction", "")
    target = None
    if direction == "module":
        # A module of another course (or none) is no module of this one: 404.
        target_id = request.form.get("module", "")
        target = contents.module_in(course, int(target_id) if target_id.isdigit() else 0)
    try:
        with db.transaction() as db_session:
            if target is not None:
                moved = contents.move_item_to(
                    db_session, current_user, _address(), course, item, target
                )
            else:
                moved = contents.move_item(
                    db_session, current_user, _address(), course, item, direction
                )
    except DomainError as error:
        flash(error.message, "error")
    else:
        if moved:
            flash(_("The item was moved."), "success")
    return redirect(_contents_url(course, f"item-{item_id}"))


@bp.route("/courses/<slug>/items/<int:item_id>/delete", methods=["GET", "POST"])
@db.reads_first
@login_required
def delete_item(slug: str, item_id: int) -> Any:
    course = _course(slug)
    item = contents.item_in(db.session(), course, item_id, siblings=True)
    if request.method == "POST":
        try:
            with editing.saving(), db.transaction() as db_session:
                contents.delete_item(db_session, current_user, _address(), course, item)
        except editing.EditConflict:
            flash(_("Someone changed this item meanwhile: look again before deleting."), "error")
            return redirect(url_for("authoring.delete_item", slug=slug, item_id=item_id))
        flash(_("The item was deleted."), "success")
        return redirect(_contents_url(course, f"module-{item.module_id}"))
    return render_template(
        "authoring/delete_confirm.html",
        course=course,
        what=item.kind,
        title=item.title,
        items=[item],
        losses=contents.losses(db.session(), [item]),
        last=False,
        action=url_for("authoring.delete_item", slug=slug, item_id=item_id),
    )
