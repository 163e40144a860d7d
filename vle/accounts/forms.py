from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from vle.forms import Form, choice


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    next = StringField(render_kw={"hidden": True})


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=[])
    next = StringField(render_kw={"hidden": True})


class TokenForm(Form):
    name = StringField(
        _l("Name"),
        description=_l("What the token is for, e.g. “HR system” or “my phone”."),
        validators=[Length(max=100)],
    )
    days = SelectField(
        _l("Valid for"),
        coerce=int,
        default=365,
        choices=[
            choice(30, _l("30 days")),
            choice(90, _l("90 days")),
            choice(365, _l("1 year")),
        ],
    )
