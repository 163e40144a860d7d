"""Forms of the trainer's home."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from vle.forms import Form

REASON = _l("Reason")


class GridFilterForm(Form):
    """The progress grid's filters, sent with GET (a URL to bookmark; no CSRF).
    Values are checked by the service."""

    class Meta:
        csrf = False

    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    sort = HiddenField()
    direction = HiddenField()


class ManualCompletionForm(Form):
    learner = SelectField(_l("Learner"), choices=[], validate_choice=False)
    reason = TextAreaField(
        REASON,
        validators=[DataRequired(), Length(max=500)],
        description=_l("For example: attended the face-to-face session on 3 March."),
    )


class ResetAttemptForm(Form):
    attempt = SelectField(_l("Attempt"), choices=[], validate_choice=False)
    reason = TextAreaField(
        REASON,
        validators=[DataRequired(), Length(max=500)],
        description=_l("Why the learner may start again; kept with the attempt."),
    )
