"""The project's base form: CSRF from Flask-WTF, and field descriptions that
templates render as help text tied to the field with aria-describedby."""

from __future__ import annotations

from flask_wtf import FlaskForm


class Form(FlaskForm):
    """Every vle form derives from this one."""
