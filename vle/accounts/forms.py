from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from vle.forms import Form


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    next = StringField(render_kw={"hidden": True})


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=[])
    next = StringField(render_kw={"hidden": True})
