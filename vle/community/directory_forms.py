"""The directory's and the register's forms: filters, an organisation's
profile, events and agreements."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from vle.forms import Form

LANGUAGE_NAMES = {
    "en": _l("Description in English"),
    "lt": _l("Description in Lithuanian"),
    "pl": _l("Description in Polish"),
    "nb": _l("Description in Norwegian Bokmål"),
}


class DirectoryFilterForm(Form):
    """GET: the filters live in the address, so a filtered list can be shared."""

    class Meta:
        csrf = False

    country = SelectField(_l("Country"), choices=[], default="", validate_choice=False)
    kind = SelectField(_l("Kind"), choices=[], default="", validate_choice=False)
    region = SelectField(_l("Region"), choices=[], default="", validate_choice=False)


def _description(lang: str) -> TextAreaField:
    return TextAreaField(
        LANGUAGE_NAMES[lang],
        validators=[Optional(), Length(max=5000)],
        description=_l("Optional, in Markdown."),
    )


class ProfileForm(Form):
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    country = SelectField(_l("Country"), choices=[], validate_choice=False)
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)])
    contact_email = StringField(_l("Contact e-mail"), validators=[Optional(), Length(max=254)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    website = StringField(
        _l("Website"),
        validators=[Optional(), Length(max=300)],
        description=_l("An address starting with https:// or http://."),
    )
    description_en = _description("en")
    description_lt = _description("lt")
    description_pl = _description("pl")
    description_nb = _description("nb")
    logo = FileField(_l("Logo"), description=_l("A PNG or JPEG image of at most 2 MB."))
    remove_logo = BooleanField(_l("Remove the logo"))


class RegisterFilterForm(Form):
    """GET: the register's filters, kept in the address."""

    class Meta:
        csrf = False

    country = SelectField(_l("Country"), choices=[], default="", validate_choice=False)
    year = SelectField(_l("Year"), choices=[], default="", validate_choice=False)


class EventForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(
        _l("Ends on"),
        validators=[Optional()],
        description=_l("Leave empty for a one-day event."),
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=300)])
    online = BooleanField(_l("Online"))
    organisers = SelectMultipleField(
        _l("Organisers"),
        choices=[],
        validate_choice=False,
        description=_l("At least one; one of them must be an organisation you administer."),
    )
    countries = SelectMultipleField(
        _l("Other countries taking part"),
        choices=[],
        validate_choice=False,
        description=_l("The organisers' own countries are counted without being chosen here."),
    )
    attendees = TextAreaField(
        _l("Attendees with an account"),
        validators=[Optional(), Length(max=20000)],
        description=_l("Their e-mail addresses, one a line."),
    )
    guests = TextAreaField(
        _l("Guests"),
        validators=[Optional(), Length(max=20000)],
        description=_l(
            "People without an account, one a line: their name, then a semicolon and "
            "their organisation's code if it is in the network."
        ),
    )
    joint_action = BooleanField(_l("Counts as a joint action across borders"))


class AgreementForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    signed_on = DateField(_l("Signed on"), validators=[DataRequired()])
    ends_on = DateField(
        _l("Ends on"), validators=[Optional()], description=_l("Leave empty if it has no end.")
    )
    parties = SelectMultipleField(
        _l("Parties"),
        choices=[],
        validate_choice=False,
        description=_l("Two or more; one of them must be an organisation you administer."),
    )


class DeleteForm(Form):
    """The confirmation step of a deletion."""
