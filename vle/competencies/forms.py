"""Forms of the competency pages: a learner's self-assessment and review
request, a trainer's rating. The scale's values are set per competency."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from vle.forms import Form, choice

NOTE_MAX = 2000


class ActionForm(Form):
    """A button's form: its CSRF token only (Request a review)."""


class SelfAssessmentForm(Form):
    rating = SelectField(
        _l("My level"),
        choices=[],
        validators=[InputRequired(message=_l("Choose a value of the scale."))],
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX)],
        description=_l("Only you and your trainers see it. It never counts as a rating."),
        render_kw={"rows": 2},
    )


class RatingForm(Form):
    rating = SelectField(
        _l("Rating"),
        choices=[],
        validators=[InputRequired(message=_l("Choose a value of the scale."))],
    )
    note = TextAreaField(
        _l("Note"),
        validators=[
            DataRequired(message=_l("Write a note: say what the rating rests on.")),
            Length(max=NOTE_MAX),
        ],
        description=_l(
            "Required. Your rating overrides any automatic one; the learner sees your note."
        ),
        render_kw={"rows": 2},
    )


def set_scale(
    form: SelfAssessmentForm | RatingForm, scale: list[str], words: dict[str, str]
) -> None:
    form.rating.choices = [choice("", _l("Choose…"))] + [
        choice(value, words.get(value, value)) for value in scale
    ]
