from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import BooleanField, DateField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from vle.forms import Form

ROLE_CHOICES = [
    ("learner", _l("Learner")),
    ("trainer", _l("Trainer")),
    ("admin", _l("Administrator")),
]
LANGUAGE_CHOICES = [
    ("", _l("Browser's language")),
    ("en", "English"),
    ("lt", "Lietuvių"),
    ("pl", "Polski"),
    ("nb", "Norsk bokmål"),
]
MAX_UPLOAD = 5 * 1024 * 1024


class OrganisationForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Short and unique, used in files and reports, e.g. VLN-LIB."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = StringField(
        _l("Type"),
        validators=[Optional(), Length(max=64)],
        description=_l("For example municipality, school, library or care home."),
    )
    parent = SelectField(_l("Part of"), choices=[], validate_choice=True)


class UserForm(Form):
    email = StringField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    organisation = SelectField(_l("Organisation"), choices=[])
    network = BooleanField(
        _l("Whole network in scope"),
        description=_l("Only for administrators: they administer every organisation."),
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=10, max=1000)],
        description=_l("At least 10 characters. Leave empty to keep the password unchanged."),
    )


class UserFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Name or email"), validators=[Optional(), Length(max=200)])
    organisation = SelectField(_l("Organisation"), choices=[])
    role = SelectField(_l("Role"), choices=[("", _l("Any role")), *ROLE_CHOICES])
    status = SelectField(
        _l("Status"),
        choices=[
            ("", _l("Any status")),
            ("active", _l("Active")),
            ("inactive", _l("Deactivated")),
            ("erased", _l("Erased")),
        ],
    )


class ImportForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileSize(MAX_UPLOAD, message=_l("The file is larger than 5 MB.")),
        ],
        description=_l(
            "UTF-8, with the columns email, name, role, organisation and optionally "
            "active, language, password. Nothing is imported before you confirm."
        ),
    )


class ConfirmImportForm(Form):
    token = HiddenField(validators=[DataRequired()])


class ActionForm(Form):
    """A button that changes something: CSRF only."""


class EraseForm(Form):
    confirm = BooleanField(
        _l("I understand that the name, email and password are erased for good."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    who = StringField(
        _l("Who"),
        validators=[Optional(), Length(max=200)],
        description=_l("Part of the name or email of whoever acted, or of the target."),
    )
    action = SelectField(_l("Action"), choices=[])
    target_type = SelectField(
        _l("About"),
        choices=[
            ("", _l("Anything")),
            ("user", _l("Users")),
            ("organisation", _l("Organisations")),
            ("enrolment", _l("Enrolments")),
            ("course", _l("Courses")),
            ("report", _l("Reports")),
        ],
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and self.since.data > field.data:
            raise ValidationError(_l("The end date must not be before the start date."))
