"""The public badge verification form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from vle.competencies.badges import MAX_CREDENTIAL
from vle.forms import Form


class VerifyBadgeForm(Form):
    credential = TextAreaField(
        _l("Credential or badge address"),
        validators=[DataRequired(), Length(max=MAX_CREDENTIAL)],
        description=_l(
            "Paste an Open Badges 3.0 credential (the text beginning “eyJ”) or the address"
            " of an Open Badges 2.0 badge of this site."
        ),
    )
