from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from vle import periods
from vle.forms import Form


class EnrolForm(Form):
    key = PasswordField(_l("Enrolment key"), validators=[Optional(), Length(max=100)])


class AssignForm(Form):
    """Assign a course: to everyone of an organisation subtree (of a role), or to
    people by e-mail (typed, chosen from a search, or in a CSV file). Checked by
    the assignment service, as the API and the command line are."""

    organisation = SelectField(
        _l("Organisation"),
        choices=[],
        validate_choice=False,
        description=_l(
            "Everyone of this organisation and its sub-organisations, including people "
            "who join later. Leave empty to assign the people listed below."
        ),
    )
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    due = StringField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("Optional (YYYY-MM-DD). A day already past makes the course overdue."),
        render_kw={
            "type": "date",
            "min": periods.EARLIEST.isoformat(),
            "max": periods.LATEST.isoformat(),
        },
    )
    people = TextAreaField(
        _l("People"),
        validators=[Optional(), Length(max=2_000_000)],
        description=_l("E-mail addresses, one a line."),
        render_kw={"rows": 6},
    )
    chosen = SelectMultipleField(_l("Chosen people"), choices=[], validate_choice=False)
    csv_file = FileField(
        _l("CSV file"),
        description=_l("Optional: a UTF-8 CSV file with an “email” column."),
        render_kw={"accept": ".csv,text/csv"},
    )
