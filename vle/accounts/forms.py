from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

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


class SsoForm(Form):
    """/login/sso: the address whose organisation signs its people in (a GET form)."""

    class Meta:
        csrf = False

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    next = StringField(render_kw={"hidden": True})


# --- Passwords people set themselves (accounts/password_views.py) ---------------------


class ForgottenPasswordForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


class NewPasswordForm(Form):
    """A reset or invitation link's page. The rules beyond length are
    accounts.passwords.check_new_password's, which names the one broken."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1000)],
        description=_l(
            "At least 10 characters. Not your email address, not your name, "
            "and not one of the passwords everyone tries first."
        ),
    )
    password_again = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1000)])
