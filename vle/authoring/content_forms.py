"""Forms of the course editor's contents: modules, lessons and links, moves.
The rules (slugs, addresses, versions) are the service's
(vle/authoring/contents.py); these forms parse and say what is missing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from vle.forms import Form

TITLE = _l("Title")


def _version(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


class ModuleForm(Form):
    title = StringField(TITLE, validators=[DataRequired(), Length(max=300)])
    version = HiddenField(filters=[_version])


class ItemForm(Form):
    """A lesson (title, required, minutes, Markdown text)."""

    title = StringField(TITLE, validators=[DataRequired(), Length(max=300)])
    required = BooleanField(
        _l("Required"),
        default=True,
        description=_l("Learners must complete it to complete the course."),
    )
    minutes = IntegerField(
        _l("Minutes (optional)"),
        validators=[Optional(), NumberRange(min=0, max=10_000)],
        description=_l("About how long it takes, shown to learners."),
    )
    source = TextAreaField(
        _l("Text (Markdown)"),
        validators=[Length(max=500_000)],
        render_kw={"rows": 18},
    )
    version = HiddenField(filters=[_version])


class LinkForm(ItemForm):
    """A link: its address and an optional Markdown description."""

    url = StringField(
        _l("Web address"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("A full address that starts with https:// or http://."),
        render_kw={"inputmode": "url"},
    )
    source = TextAreaField(
        _l("Description (Markdown, optional)"),
        validators=[Length(max=500_000)],
        render_kw={"rows": 8},
    )
