"""What vle accepts from outside, checked the same way on every path (URLs,
forms, the API's JSON, CSV files, the command line): ids the database can
hold, and text without control characters.

Ids: PostgreSQL's id columns are `integer` (at most 2^31 - 1); SQLite's
would hold more, but an id means the same on both: a larger number names no
row (404) rather than reaching the database (PostgreSQL fails on it, and
SQLite too above 2^63).

Control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F):
PostgreSQL refuses NUL in text, and a file vle writes (the users export)
would not import again. Tab, line feed and carriage return belong in text of
several lines (an essay, a comment) and nowhere else.
"""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, inspect
from sqlalchemy.orm import Session
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter
from werkzeug.routing.converters import ValidationError

from vle.errors import Invalid

MAX_ID = 2**31 - 1

CONTROL_CHARACTERS = _l("Control characters (such as NUL) are not allowed here.")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control(text: str, multiline: bool = False) -> bool:
    """Does `text` hold a control character? `multiline`: text of several
    lines, where tab, line feed and carriage return are allowed."""
    return (_CONTROL_IN_LINES if multiline else _CONTROL).search(text) is not None


def json_has_control(value: Any) -> bool:
    """Does a JSON value hold a control character in any string, key or value,
    at any depth (tab and line breaks allowed: a string may be an essay)? Walked
    without recursion, as the document may be deep."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if has_control(current, multiline=True):
                return True
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)
    return False


def as_id(value: Any) -> int | None:
    """An id from a JSON body or a query string (already a number), or None when
    it is not one the database could hold (the caller answers 404 or 422)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


def _numbers_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit`: those
    with fewer digits, then those with as many that are smaller at some digit
    and equal before it, then `limit` itself."""
    digits = str(limit)
    alternatives = [rf"\d{{1,{len(digits) - 1}}}"]
    for i, digit in enumerate(digits):
        if digit != "0":
            alternatives.append(rf"{digits[:i]}[0-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    return "|".join([*alternatives, digits])


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number larger than an id can be is no part
    of any path the app has (404, whatever the method: a converter that refused
    it only after matching would let werkzeug answer 405 where another method's
    route has the same path)."""

    regex = f"(?:{_numbers_up_to(MAX_ID)})"


class TextConverter(UnicodeConverter):
    """`<slug>`, `<code>`: a path part with a control character matches no route."""

    def to_python(self, value: str) -> str:
        if has_control(value):
            raise ValidationError()
        return value


class TextPathConverter(PathConverter):
    def to_python(self, value: str) -> str:
        if has_control(value):
            raise ValidationError()
        return value


URL_CONVERTERS = {
    "int": IdConverter,
    "default": TextConverter,
    "string": TextConverter,
    "path": TextPathConverter,
}


def check_text_columns(session: Session, _context: Any, _instances: Any) -> None:
    """Before every flush, whatever path the write came by (a form, the API, a
    CSV file, the command line, a course import): text longer than its column
    (PostgreSQL refuses it, SQLite would keep it) or holding a control character
    is refused with a DomainError (422, a form error, one line on the command line)."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attribute in state.mapper.column_attrs:
            column_type = attribute.columns[0].type
            value = state.dict.get(attribute.key)
            if not isinstance(column_type, String) or not isinstance(value, str):
                continue
            if not state.pending and not state.attrs[attribute.key].history.has_changes():
                continue
            if column_type.length is not None and len(value) > column_type.length:
                raise Invalid(
                    _l(
                        "“%(field)s” is too long: at most %(max)d characters.",
                        field=attribute.key,
                        max=column_type.length,
                    )
                )
            if has_control(value, multiline=True):
                raise Invalid(
                    _l(
                        "“%(field)s” holds a control character (such as NUL), which cannot be "
                        "saved.",
                        field=attribute.key,
                    )
                )


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading only JSON: a document nested deeper than Python's
    parser can follow, and the non-JSON constants NaN and Infinity, are
    malformed bodies (request.get_json: 400), not server errors."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
