"""How vle writes dates, times and numbers for a reader: one rule, used by the
pages, the mails, the certificates and the spreadsheet exports.

A language is written in its formatting locale (`formatting_locale`): English as
British English does — day, month, year and a 24-hour clock ("6 December 2026,
17:54"; never "12/6/26") — and every other language as itself. A percentage is
one unit that does not wrap: where a locale puts a space before "%" or inside a
number ("1 234,5 %"), Babel writes it as a no-break space.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache

from babel import Locale, dates, numbers
from flask import g, has_app_context
from flask_babel import get_locale, get_timezone

# The languages whose own locale is not how vle's readers write them.
_FORMATTING = {"en": "en_GB"}


@lru_cache(maxsize=64)
def formatting_locale(language: str | Locale | None) -> Locale:
    """The locale whose formats a reader of `language` gets: "en" → en_GB, "lt" → lt."""
    name = str(language or "en")
    return Locale.parse(_FORMATTING.get(name, name))


@dataclass(frozen=True, slots=True)
class _Formats:
    locale: Locale
    timezone: tzinfo


def _formats() -> _Formats:
    """The reader's formatting locale and time zone, looked up once a request (or a
    mail's rendering: each has an app context of its own). Flask-Babel's formatters
    look both up again on every call, and a list page formats on every row."""
    formats = g.get("vle_formats") if has_app_context() else None
    if formats is None:
        formats = _Formats(formatting_locale(get_locale()), get_timezone())
        if has_app_context():
            g.vle_formats = formats
    return formats


# A day or a number reads the same for every reader of a language, and list
# pages repeat them (today's date, a progress of 100 %): each is formatted
# once per language and process, not on every row of every page.
@lru_cache(maxsize=8192)
def _day_text(day: date, format: str, locale: Locale) -> str:  # noqa: A002
    return dates.format_date(day, format, locale=locale)


@lru_cache(maxsize=8192)
def _decimal_text(number: float | Decimal, kind: str, locale: Locale) -> str:
    return numbers.format_decimal(number, locale=locale)


def format_date(value: date | datetime, format: str = "medium") -> str:  # noqa: A002
    """A date (a datetime: its day in the reader's time zone), per locale:
    "6 Dec 2026" (medium), "6 December 2026" (long), or a CLDR pattern."""
    formats = _formats()
    day = value.astimezone(formats.timezone).date() if isinstance(value, datetime) else value
    return _day_text(day, format, formats.locale)


@lru_cache(maxsize=1024)
def _month_text(first_day: date, format: str, locale: Locale) -> str:  # noqa: A002
    if format.isalpha() and format[0] in "yM":  # a skeleton: the locale's order
        return dates.format_skeleton(format, first_day, locale=locale)
    return dates.format_date(first_day, format, locale=locale)


def format_month(value: date | str, format: str = "yMMMM") -> str:  # noqa: A002
    """A calendar month (a day in it, or "2026-12") as the reader's language
    names it: "December 2026", "2026 m. gruodis", "grudzień 2026", "desember
    2026"; `format` is a CLDR skeleton ("yMMMM") or a pattern ("LLL": "Dec")."""
    if isinstance(value, str):
        year, month = value.split("-")[:2]
        value = date(int(year), int(month), 1)
    return _month_text(value.replace(day=1), format, _formats().locale)


def format_datetime(value: datetime, format: str = "medium") -> str:  # noqa: A002
    """A moment in the reader's time zone, per locale, to the minute. "medium" (the
    default): the day in words and the time — "6 December 2026, 17:54",
    "2026 m. gruodžio 6 d. 17:54"; "short": the day in digits — "06/12/2026, 17:54"."""
    formats = _formats()
    locale = formats.locale
    if format != "medium":
        return dates.format_datetime(value, format, tzinfo=formats.timezone, locale=locale)
    local = value.astimezone(formats.timezone)
    return str(locale.datetime_formats["medium"]).format(
        dates.format_time(local, "short", locale=locale),
        _day_text(local.date(), "long", locale),
    )


def format_decimal(number: float | Decimal) -> str:
    """A number per locale, thousands grouped ("1,234.5", "1 234,5": a no-break space)."""
    # The type is part of the key: 1 and 1.0 are equal but may read differently.
    return _decimal_text(number, type(number).__name__, _formats().locale)


def format_percent(share: float | Decimal, places: int = 0) -> str:
    """`share` (0.5 for a half) as a percentage per locale, to at most `places`
    decimal places, as one unbreakable unit: "50%", "66,67 %", "100 %"."""
    # Through Decimal, so that 66.67 stays 66.67 and is not 66.670000000001.
    exact = Decimal(str(round(float(share) * 100, places))) / 100
    return numbers.format_percent(exact, locale=_formats().locale, decimal_quantization=False)


def decimal_mark(language: str | Locale | None) -> str:
    """The decimal mark readers of `language` write: "." in English, "," in lt, pl and nb."""
    return numbers.get_decimal_symbol(formatting_locale(language))
