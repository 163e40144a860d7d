"""The monitoring pages' forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, Optional

from vle.forms import Form


class FreezeForm(Form):
    reporting_date = DateField(_l("Reporting date"), validators=[DataRequired()])


class JointTrainingForm(Form):
    """Which courses count as joint training schemes: the checked `course` boxes."""


class MonitoringFilterForm(Form):
    class Meta:
        csrf = False

    organisation = SelectField(_l("Organisation"), choices=[], validators=[Optional()])
    country = SelectField(_l("Country"), choices=[], validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
