"""Forms of the learning plan pages (vle/admin/plan_views.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from vle import periods
from vle.forms import Form


class TemplateForm(Form):
    """A learning plan template: its name, description, due date and competencies
    (checkboxes grouped by framework, drawn by the page)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 4}
    )
    due = StringField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("Optional (YYYY-MM-DD): when the plans made from it are due."),
        render_kw={
            "type": "date",
            "min": periods.EARLIEST.isoformat(),
            "max": periods.LATEST.isoformat(),
        },
    )
    competencies = SelectMultipleField(
        _l("Competencies"), choices=[], coerce=int, validate_choice=False
    )


class AssignPlanForm(Form):
    """Assign a template to chosen people (found by name or e-mail) or to everyone
    of an organisation subtree, of one role or every role."""

    organisation = SelectField(
        _l("Organisation"),
        choices=[],
        validate_choice=False,
        description=_l(
            "Everyone of this organisation and its sub-organisations, including people "
            "who join later. Leave empty to assign the people chosen above."
        ),
    )
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    draft = BooleanField(
        _l("Start as a draft"),
        description=_l(
            "Chosen people only: the plan is prepared but not active until you activate "
            "it; the person is told then."
        ),
    )
    chosen = SelectMultipleField(_l("Chosen people"), choices=[], coerce=int,
                                 validate_choice=False)  # fmt: skip


class GapFilterForm(Form):
    """The gap view's organisation (a GET form)."""

    class Meta:
        csrf = False

    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=False)
