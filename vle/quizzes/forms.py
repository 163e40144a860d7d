"""Forms of the quiz pages. The answer forms are built from the attempt's
questions, so they are read field by field in views.py; these carry the CSRF
token and the few fixed fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from vle.forms import Form


class ActionForm(Form):
    """A button that changes state: only the CSRF token travels."""


class AccommodationForm(Form):
    learner = StringField(
        _l("Learner's email"),
        validators=[InputRequired(), Length(max=254)],
        description=_l("The learner must be enrolled in the course."),
    )
    extra_minutes = IntegerField(
        _l("Extra time (minutes)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=24 * 60)],
    )
    extra_attempts = IntegerField(
        _l("Extra attempts"), default=0, validators=[Optional(), NumberRange(min=0, max=100)]
    )
    note = StringField(
        _l("Note"),
        validators=[Optional(), Length(max=500)],
        description=_l("Why, for the other trainers (optional)."),
    )
