from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from vle.forms import Form


class EnrolForm(Form):
    key = PasswordField(_l("Enrolment key"), validators=[Optional(), Length(max=100)])
