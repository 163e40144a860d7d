"""The conflict page every editor form shares (a save based on an older
version: vle/authoring/editing.py). It shows, field by field, the version
saved meanwhile beside the trainer's own, and offers three ways on:

- **Keep my version**: the trainer's values, saved over the newer version
  (knowingly: the form now carries the newer version number);
- **Take the other version**: back to the editor, which loads what is saved;
- **Save merged version**: the trainer's values in editable fields, theirs
  beside them, to merge by hand.

A view calls `conflict_page(form, theirs, version, back)` with `form` bound
to what was posted and `theirs` the same form class filled from the object
as saved now."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_wtf import FlaskForm

SKIPPED = {"csrf_token", "version", "submit"}


def _shown(field: Any) -> str:
    """A field's value as the conflict page shows it, read-only."""
    data = field.data
    if field.type == "BooleanField":
        return "✓" if data else "✗"
    choices = getattr(field, "choices", None)
    if choices:
        labels = {str(value): str(label) for value, label, *_ in field.iter_choices()}
        if isinstance(data, list | tuple):
            return ", ".join(labels.get(str(v), str(v)) for v in data)
        return labels.get(str(data), "" if data is None else str(data))
    return "" if data is None else str(data)


def conflict_page(form: FlaskForm, theirs: FlaskForm, version: int, back: str) -> tuple[str, int]:
    """The conflict page (409) for an edit form: `form` holds the trainer's
    values, `theirs` the saved ones; `version` is the saved version (the
    page's forms carry it, so a save from here is based on what it shows)."""
    rows = [
        {
            "field": field,
            "label": field.label.text,
            "mine": _shown(field),
            "theirs": _shown(theirs[field.name]),
            "differs": _shown(field) != _shown(theirs[field.name]),
            "posted": request.form.getlist(field.name),
        }
        for field in form
        if field.name not in SKIPPED
        and field.type not in ("SubmitField", "HiddenField", "FileField")
    ]
    return render_template(
        "authoring/conflict.html",
        form=form,
        rows=rows,
        version=version,
        action=request.path,
        back=back,
    ), 409
