from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from vle.forms import Form


class VerifyForm(Form):
    """A GET form (it changes nothing), so it carries no CSRF token."""

    class Meta:
        csrf = False

    code = StringField(
        _l("Verification code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("As printed on the certificate, for example 7K3M-Q9XA-2B4C-8DEF."),
    )
