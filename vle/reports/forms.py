from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, StringField

from vle import periods
from vle.forms import Form

# A date input, with the days a filter may name (the service checks them too).
DAY_INPUT = {"type": "date", "min": periods.EARLIEST.isoformat(), "max": periods.LATEST.isoformat()}


class ReportFilterForm(Form):
    """The report's filters, sent with GET so that a filtered report has a URL to
    bookmark and share. Nothing changes state, so there is no CSRF token.

    Values are checked by the report service (the same check the API and the
    command line get), not by WTForms: organisation and course arrive as codes
    and slugs, and dates as YYYY-MM-DD text from a date input."""

    class Meta:
        csrf = False

    organisation = SelectField(
        _l("Organisation"),
        choices=[],
        validate_choice=False,
        description=_l("Includes its sub-organisations."),
    )
    course = SelectField(_l("Course"), choices=[], validate_choice=False)
    since = StringField(
        _l("From"),
        description=_l("Enrolled or completed on or after this day (YYYY-MM-DD)."),
        render_kw=DAY_INPUT,
    )
    until = StringField(
        _l("To"),
        description=_l("Enrolled or completed on or before this day (YYYY-MM-DD)."),
        render_kw=DAY_INPUT,
    )
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    per_page = SelectField(_l("Rows per page"), choices=[], validate_choice=False)
    sort = HiddenField()


class DashboardForm(Form):
    class Meta:
        csrf = False

    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=False)


class CompetencyFilterForm(Form):
    """The competency report's filters, sent with GET (a URL to bookmark and share);
    checked by the report service, as the API's and the command line's are."""

    class Meta:
        csrf = False

    organisation = SelectField(
        _l("Organisation"),
        choices=[],
        validate_choice=False,
        description=_l("Includes its sub-organisations."),
    )
    framework = SelectField(_l("Framework"), choices=[], validate_choice=False)
    competency = SelectField(_l("Competency"), choices=[], validate_choice=False)
    rating = SelectField(_l("Rating"), choices=[], validate_choice=False)
    since = StringField(
        _l("From"),
        description=_l("Rated on or after this day (YYYY-MM-DD)."),
        render_kw=DAY_INPUT,
    )
    until = StringField(
        _l("To"),
        description=_l("Rated on or before this day (YYYY-MM-DD)."),
        render_kw=DAY_INPUT,
    )
    per_page = SelectField(_l("Rows per page"), choices=[], validate_choice=False)
    sort = HiddenField()
