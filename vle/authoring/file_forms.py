"""Forms of the editor's file items (vle/authoring/file_views.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from vle.forms import Form


class FileItemForm(Form):
    """Add file: title, required, description and the file itself."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    required = BooleanField(
        _l("Required"),
        default=True,
        description=_l("A learner must mark it done to complete the course."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=20000)],
        description=_l("Optional, in Markdown: shown above the download button."),
    )
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])


class EditFileItemForm(FileItemForm):
    """Edit file: the same, the file optional (a replacement), and the version
    the editor was opened on (vle/authoring/editing.py)."""

    file = FileField(_l("Replace the file"))
    version = HiddenField()
