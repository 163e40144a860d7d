from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from vle import periods
from vle.forms import Form, choice

ROLE_CHOICES = [
    choice("learner", _l("Learner")),
    choice("trainer", _l("Trainer")),
    choice("admin", _l("Administrator")),
]
LANGUAGE_CHOICES = [
    choice("", _l("Browser's language")),
    choice("en", "English"),
    choice("lt", "Lietuvių"),
    choice("pl", "Polski"),
    choice("nb", "Norsk bokmål"),
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
    parent = SelectField(_l("Part of"), choices=[], default="")


IMAGE_ACCEPT = "image/png,image/jpeg"  # what the file picker offers; the content decides


class CertificateLookForm(Form):
    """An organisation on the certificates it issues (vle/certificates/pdf.py)."""

    logo = FileField(
        _l("Logo"),
        description=_l("A PNG or JPEG image of at most 2 MB."),
        render_kw={"accept": IMAGE_ACCEPT},
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    signature = FileField(
        _l("Signature image"),
        description=_l("The signatory's signature, scanned: a PNG or JPEG image of at most 2 MB."),
        render_kw={"accept": IMAGE_ACCEPT},
    )
    remove_signature = BooleanField(_l("Remove the signature image"))
    signatory = StringField(
        _l("Signatory"),
        validators=[Optional(), Length(max=200)],
        description=_l("Printed under the signature, e.g. “Dr. Rūta Kazlauskienė, Director”."),
    )


class UserForm(Form):
    email = StringField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="learner")
    organisation = SelectField(_l("Organisation"), choices=[])
    network = BooleanField(
        _l("Whole network in scope"),
        description=_l("Only for administrators: they administer every organisation."),
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="")
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=10, max=1000)],
        description=_l("At least 10 characters. Leave empty to keep the password unchanged."),
    )
    must_change_password = BooleanField(
        _l("Must change the password at the next sign-in"),
        description=_l("After signing in, every page leads to Change password until it is done."),
    )
    # New accounts only: the edit page sends an invitation again with a button.
    invite = BooleanField(
        _l("Send an invitation"),
        default=True,
        description=_l(
            "A mail with a link to choose their own password, so that nobody else "
            "knows it. Not sent when you type a password."
        ),
    )


class UserFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Name or email"), validators=[Optional(), Length(max=200)])
    organisation = SelectField(_l("Organisation"), choices=[], default="")
    role = SelectField(_l("Role"), choices=[choice("", _l("Any role")), *ROLE_CHOICES], default="")
    status = SelectField(
        _l("Status"),
        choices=[
            choice("", _l("Any status")),
            choice("active", _l("Active")),
            choice("inactive", _l("Deactivated")),
            choice("erased", _l("Erased")),
        ],
        default="",
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
            "active, language, password, must_change_password. Nothing is imported "
            "before you confirm."
        ),
    )


class ConfirmImportForm(Form):
    token = HiddenField(validators=[DataRequired()])
    invite = BooleanField(
        _l("Send invitations"),
        default=True,
        description=_l(
            "New accounts without a password get a mail with a link to choose their own."
        ),
    )


class ActionForm(Form):
    """A button that changes something: CSRF only."""


class EraseForm(Form):
    confirm = BooleanField(
        _l("I understand that the name, email, password and quiz answers are erased for good."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


def _within_range(_form: Form, field: DateField) -> None:
    """A day the audit log can be filtered by (vle.periods): else the day after
    `until` overflowed, a 500."""
    if field.data and not periods.within_range(field.data):
        raise StopValidation(periods.out_of_range(field.data.isoformat()))


_DAY_INPUT = {"min": periods.EARLIEST.isoformat(), "max": periods.LATEST.isoformat()}


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    who = StringField(
        _l("Who"),
        validators=[Optional(), Length(max=200)],
        description=_l("Part of the name or email of whoever acted, or of the target."),
    )
    action = SelectField(_l("Action"), choices=[], default="")
    target_type = SelectField(
        _l("About"),
        choices=[
            choice("", _l("Anything")),
            choice("user", _l("Users")),
            choice("organisation", _l("Organisations")),
            choice("enrolment", _l("Enrolments")),
            choice("course", _l("Courses")),
            choice("report", _l("Reports")),
        ],
        default="",
    )
    since = DateField(_l("From"), validators=[Optional(), _within_range], render_kw=_DAY_INPUT)
    until = DateField(_l("To"), validators=[Optional(), _within_range], render_kw=_DAY_INPUT)

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and self.since.data > field.data:
            raise ValidationError(_l("The end date must not be before the start date."))


class SsoForm(Form):
    """An organisation's OpenID Connect provider (vle/admin/sso_views.py)."""

    issuer = StringField(
        _l("Issuer"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("The provider's address, e.g. https://login.example.org/realms/staff."),
    )
    client_id = StringField(_l("Client id"), validators=[DataRequired(), Length(max=255)])
    client_secret = PasswordField(
        _l("Client secret"),
        validators=[Optional(), Length(max=500)],
        description=_l("Stored encrypted and never shown. Leave empty to keep the stored one."),
    )
    domains = TextAreaField(
        _l("E-mail domains"),
        validators=[DataRequired(), Length(max=5000)],
        description=_l("The addresses it signs in: one domain a line, e.g. vilnius.lt."),
    )
