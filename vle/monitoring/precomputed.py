"""The monitoring figures and the cooperating pairs, counted ahead of the pages
that show them (issue 19: the whole network's monitoring page under 1 s, "with
the time of the figures shown").

Each question a page asks — the monitoring filters with the reader's time zone
(`figures.Asked.key`), or the cooperating pairs in a time zone — is one row of
`monitoring_figures`: the figures as counted and when. The worker recounts
every question older than `FRESH` every five minutes (`refresh_figures`, also
`vle monitoring refresh`), counting the pairs once per time zone for all of
them, and forgets a question no page has read for `FORGET`. A page counts on
the spot, and stores, only what was never counted (a fresh site, a new
filter) or is older than `STALE` (no worker is running); otherwise it shows
the stored figures and says as of when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vle import db
from vle.accounts.models import Organisation
from vle.db import insert_unless_exists, utcnow
from vle.mail.queue import crontab, periodic_task
from vle.monitoring import cooperation, figures
from vle.monitoring.models import MonitoringFigures
from vle.reports.scope import zone

FRESH = timedelta(minutes=4)  # the worker recounts figures older than this
STALE = timedelta(hours=1)  # a page recounts figures older than this (no worker)
FORGET = timedelta(days=7)  # a question no page has read for this long is dropped
_READ_EVERY = timedelta(hours=1)  # how often a page notes that it read a question


@dataclass
class Counted:
    """What a page shows: the figures and when they were counted."""

    result: dict[str, Any]
    computed_at: datetime


def _pairs_key(zone_name: str) -> str:
    return f"pairs {zone_name}"


def _store(key: str, result: dict[str, Any], now: datetime) -> None:
    """Write the figures for `key` in a short transaction of their own (the
    counting is done before, outside it: on SQLite a write holds the lock)."""
    with db.transaction() as db_session:
        db_session.execute(
            insert_unless_exists(db_session, MonitoringFigures, ["key"]).values(
                key=key, result=result, computed_at=now, read_at=now
            )
        )
        db_session.execute(
            update(MonitoringFigures)
            .where(MonitoringFigures.key == key)
            .values(result=result, computed_at=now)
        )


def _read(db_session: Session, key: str, count: Callable[[], dict[str, Any]]) -> Counted:
    """The stored figures for `key`, or counted (and stored) now when there are
    none or they are older than `STALE`."""
    now = utcnow()
    row = db_session.get(MonitoringFigures, key)
    if row is None or now - row.computed_at > STALE:
        result = count()
        _store(key, result, now)
        return Counted(result, now)
    counted = Counted(row.result, row.computed_at)
    if now - row.read_at > _READ_EVERY:
        with db.transaction() as write:
            write.execute(
                update(MonitoringFigures).where(MonitoringFigures.key == key).values(read_at=now)
            )
    return counted


# --- what is stored, and back --------------------------------------------------------


def _pairs_result(pairs: list[cooperation.CooperationPair]) -> dict[str, Any]:
    return {
        "pairs": [
            [p.org_a.id, p.org_b.id, {via: day.isoformat() for via, day in p.links.items()}]
            for p in pairs
        ]
    }


def _figures_result(filters: figures.Filters, series: list[figures.Series]) -> dict[str, Any]:
    return {
        "since": filters.since.isoformat(),
        "until": filters.until.isoformat(),
        "series": {s.key: s.months for s in series},
    }


def stored_pairs(db_session: Session, result: dict[str, Any]) -> list[cooperation.CooperationPair]:
    """The pairs as stored, with their organisations as they are now (a pair of
    an organisation deleted since is left out)."""
    ids = {i for a, b, _links in result["pairs"] for i in (a, b)}
    orgs = {
        o.id: o for o in db_session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    }
    return [
        cooperation.CooperationPair(
            orgs[a], orgs[b], {via: date.fromisoformat(day) for via, day in links.items()}
        )
        for a, b, links in result["pairs"]
        if a in orgs and b in orgs
    ]


def stored_series(result: dict[str, Any]) -> list[figures.Series]:
    return [
        figures.Series(key, str(figures.SERIES[key]), [(m, int(v)) for m, v in months])
        for key, months in result["series"].items()
        if key in figures.SERIES
    ]


# --- what the pages read -------------------------------------------------------------


def pairs(db_session: Session, zone_name: str) -> tuple[list[cooperation.CooperationPair], Counted]:
    """The cooperating pairs, their days in the zone, as last counted."""
    counted = _read(
        db_session,
        _pairs_key(zone_name),
        lambda: _pairs_result(cooperation.cooperating_pairs(db_session, tz=zone(zone_name))),
    )
    return stored_pairs(db_session, counted.result), counted


def monitoring(
    db_session: Session, asked: figures.Asked, filters: figures.Filters
) -> tuple[list[figures.Series], Counted]:
    """The monitoring figures `asked` for (which are `filters` today), as last
    counted; `Counted.result` holds the period they cover ("since", "until")."""
    counted = _read(
        db_session,
        asked.key,
        lambda: _figures_result(filters, figures.monitoring(db_session, filters)),
    )
    return stored_series(counted.result), counted


# --- the worker ----------------------------------------------------------------------


def refresh(now: datetime | None = None, everything: bool = False) -> int:
    """Recount every question older than `FRESH` (or `everything`), and the whole
    network's default figures and pairs in the site's time zone, asked or not;
    the pairs are counted once per time zone. Forget what no page has read for
    `FORGET`. The count of questions recounted."""
    now = now or utcnow()
    with db.transaction() as db_session:
        db_session.execute(
            delete(MonitoringFigures).where(MonitoringFigures.read_at < now - FORGET)
        )
    db_session = db.session()
    site_zone = str(current_app.config["DEFAULT_TIMEZONE"])
    defaults = [figures.Asked("", "", None, None, site_zone).key, _pairs_key(site_zone)]
    rows = db_session.execute(select(MonitoringFigures.key, MonitoringFigures.computed_at))
    known = {key: computed_at for key, computed_at in rows}
    due = [key for key in defaults if key not in known]
    due += [key for key, computed_at in known.items() if everything or computed_at <= now - FRESH]
    by_zone: dict[str, list[str]] = {}
    for key in due:
        zone_name = (
            key.split(" ", 1)[1] if key.startswith("pairs ") else figures.Asked.from_key(key).zone
        )
        by_zone.setdefault(zone_name, []).append(key)
    recounted = 0
    for zone_name, keys in by_zone.items():
        started = utcnow()
        all_pairs = cooperation.cooperating_pairs(db_session, tz=zone(zone_name))
        for key in keys:
            if key.startswith("pairs "):
                _store(key, _pairs_result(all_pairs), started)
                recounted += 1
                continue
            asked = figures.Asked.from_key(key)
            filters, _why = figures.resolve(
                db_session, asked, started.astimezone(zone(zone_name)).date()
            )
            if filters is None:  # its organisation is gone, or its period no longer holds
                with db.transaction() as write:
                    write.execute(delete(MonitoringFigures).where(MonitoringFigures.key == key))
                continue
            series = figures.monitoring(db_session, filters, all_pairs)
            _store(key, _figures_result(filters, series), started)
            recounted += 1
    return recounted


@periodic_task(crontab(minute="*/5"))
def refresh_figures() -> int:
    """Every five minutes: the monitoring figures and the pairs, counted afresh."""
    return refresh()
