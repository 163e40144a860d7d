"""The project's base form: CSRF from Flask-WTF, field descriptions rendered as
help text tied to the field (templates/macros.html), and WTForms' own messages
("This field is required.") in the user's language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.i18n import messages_path

from vle.db import SAFE_METHODS
from vle.inputs import CONTROL_CHARACTERS, has_control

TRANSLATIONS = Path(__file__).resolve().parent / "translations"

try:  # WTForms 3.3 deprecates (value, label) tuples for choices
    from wtforms.fields.choices import SelectChoice as _SelectChoice

    def choice(value: Any, label: Any) -> Any:
        return _SelectChoice(value, label)

except ImportError:  # pragma: no cover - older WTForms

    def choice(value: Any, label: Any) -> Any:
        return (value, label)


@lru_cache(maxsize=16)
def wtforms_translations(locale: str) -> NullTranslations:
    """WTForms' messages: our catalog first (WTForms ships no Lithuanian), then
    the catalogs that come with WTForms."""
    ours = Translations.load(str(TRANSLATIONS), [locale], domain="wtforms")
    theirs = Translations.load(messages_path(), [locale], domain="wtforms")
    if isinstance(ours, Translations):
        ours.add_fallback(theirs)
        return ours
    return theirs


class Form(FlaskForm):
    """Every vle form derives from this one. A form posted to change something
    refuses control characters in its text: a text area allows tabs and line
    breaks, a one-line field nothing. A search form (GET) passes them on, and
    the search finds nothing."""

    class Meta:
        def get_translations(self, form: Any) -> NullTranslations:
            return wtforms_translations(str(get_locale()))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if request.method in SAFE_METHODS:
            return valid
        for field in self:
            values = field.data if isinstance(field.data, list) else [field.data]
            multiline = isinstance(field, TextAreaField)
            if any(isinstance(v, str) and has_control(v, multiline) for v in values):
                field.errors = [*field.errors, CONTROL_CHARACTERS]
                valid = False
        return valid
