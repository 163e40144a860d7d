"""File items in the trainer's editor: add one to a module, edit it, replace its file.

A file item keeps its file in `item.settings["file"]`:
`{"name": safe download name, "sha256": hex, "type": media type, "size": bytes}`;
the bytes live content-addressed in the instance folder (vle/uploads.py). What
the file is was decided from its content when it was uploaded, and the download
(`learning.item_file`) sends it as that type, always as an attachment.

Every check runs before anything is written: a refused upload leaves no item,
no change and no file on disk. The bytes are written last, inside the
transaction (a failed commit may leave an unreferenced file behind, harmless
as it is content-addressed: the same upload later finds it there).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from vle import uploads
from vle.accounts.models import User
from vle.authoring import contents, editing
from vle.catalog.models import Course, Item, Module
from vle.errors import NotFound
from vle.learning import services as learning
from vle.sanitize import markdown_to_html


@dataclass(frozen=True)
class Upload:
    """A file as the trainer sent it: the name their computer gave it, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Storage:
    """Where uploads go and how large one may be."""

    instance_path: str | os.PathLike[str]
    max_bytes: int


def _file_settings(upload: Upload, storage: Storage) -> tuple[dict[str, Any], bytes]:
    """The item's `settings["file"]` for an upload (UploadRefused when it is not accepted)."""
    media_type, extension = uploads.check_file(upload.name, upload.data, storage.max_bytes)
    sha256 = hashlib.sha256(upload.data).hexdigest()
    settings = {
        "name": uploads.safe_name(upload.name, extension),
        "sha256": sha256,
        "type": media_type,
        "size": len(upload.data),
    }
    return settings, upload.data


def add_file(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    module: Module,
    *,
    title: str,
    required: bool,
    description: str,
    upload: Upload,
    storage: Storage,
) -> Item:
    """A new file item at the end of `module` (course loaded by
    `editing.editable_course`). UploadRefused, with nothing changed, when the
    file is not accepted."""
    file_settings, data = _file_settings(upload, storage)
    item = Item(
        kind="file",
        title=title,
        required=required,
        source=description,
        body_html=markdown_to_html(description) if description.strip() else "",
        settings={"file": file_settings},
    )
    contents.append_item(db_session, course, module, item)
    uploads.store(storage.instance_path, data)
    editing.record(
        db_session,
        user,
        address,
        "add_file",
        course,
        {
            "item": item.id,
            "slug": item.slug,
            "module": module.id,
            "sha256": file_settings["sha256"],
        },
    )
    if required:
        learning.recount_course(db_session, course)
    return item


def edit_file(
    db_session: Session,
    user: User,
    address: str | None,
    course: Course,
    item: Item,
    *,
    based_on: int | None,
    title: str,
    required: bool,
    description: str,
    upload: Upload | None,
    storage: Storage,
) -> Item:
    """Save a file item's title, required and description, and its file when
    `upload` is given (else it keeps its file). EditConflict when `based_on`
    is not the item's version; UploadRefused when the new file is not
    accepted: nothing changed either way."""
    if item.kind != "file":
        raise NotFound(str(_l("There is no such file in this course.")))
    editing.expect_version(item, based_on)
    replaced: tuple[dict[str, Any], bytes] | None = None
    if upload is not None:
        replaced = _file_settings(upload, storage)
    changed = [
        name
        for name, old, new in (
            ("title", item.title, title),
            ("required", item.required, required),
            ("description", item.source, description),
        )
        if old != new
    ]
    required_changed = item.required != required
    item.title = title
    item.required = required
    if item.source != description:
        item.source = description
        item.body_html = markdown_to_html(description) if description.strip() else ""
    details: dict[str, Any] = {"item": item.id, "slug": item.slug, "changed": changed}
    if replaced is not None:
        file_settings, data = replaced
        item.settings = {**(item.settings or {}), "file": file_settings}
        details["sha256"] = file_settings["sha256"]
        changed.append("file")
        uploads.store(storage.instance_path, data)
    db_session.flush()
    editing.record(db_session, user, address, "edit_file", course, details)
    if required_changed:
        learning.recount_course(db_session, course)
    return item
