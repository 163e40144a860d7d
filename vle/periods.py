"""The days a date filter may name (the reports, the dashboard, the audit log, the
command line): from 1900-01-01 to 2999-12-31.

A filter's day becomes an instant: the start of `since`, and the start of the day
after `until`, in the reader's time zone. Python's dates end at 9999-12-31 and
begin at 0001-01-01, so `until=9999-12-31` (HR systems' "no end date") and
`since=0001-01-01` east of UTC had no such instant: the page answered 500 and a
download, already started with 200, broke off. Nothing in vle happened before
1900 or will after 2999, so a day outside that range is refused as a mistake,
before anything is read or sent, with a message that says what to do instead
(leave the field empty for no limit).
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def within_range(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def out_of_range(value: object) -> str:
    """The message for a day outside the range, in the reader's language."""
    return str(
        _l(
            "“%(value)s” is out of range: choose a day from %(earliest)s to %(latest)s, "
            "or leave the field empty for no limit.",
            value=str(value)[:40],
            earliest=EARLIEST.isoformat(),
            latest=LATEST.isoformat(),
        )
    )
