"""The indicator panel (PRODUCT.md §2, issue 19 point 7): four Interreg
indicators counted from the network's records, each with its counting rule
and the evidence behind it, and snapshots frozen at a reporting date.

Every figure counts what stood at the end of the reporting date (today when
none is given); a snapshot keeps the figures, the rules and the evidence as
they were, whatever the data does afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from vle.accounts.models import Organisation, User
from vle.audit import audit
from vle.catalog.models import Course
from vle.community.models import Event, EventAttendance
from vle.errors import Conflict, Forbidden, Invalid, NotFound
from vle.learning.models import Enrolment
from vle.monitoring import cooperation
from vle.monitoring.models import IndicatorEvidence, IndicatorSnapshot

CODES = ("RCO81", "RCO85", "RCR81", "RCO87")

NAMES: dict[str, Any] = {
    "RCO81": _l("Participations in joint actions across borders"),
    "RCO85": _l("Participations in joint training schemes"),
    "RCR81": _l("Completions of joint training schemes"),
    "RCO87": _l("Organisations cooperating across borders"),
}

RULES: dict[str, Any] = {
    "RCO81": _l(
        "Each attendance (a vle user or a named guest) of an event that a network "
        "administrator marked as a joint action and whose organisers are from at least two "
        "countries, held on or before the reporting date."
    ),
    "RCO85": _l(
        "Each enrolment, made on or before the reporting date, in a course marked as a joint "
        "training scheme."
    ),
    "RCR81": _l(
        "Each enrolment in a course marked as a joint training scheme completed on or before "
        "the reporting date."
    ),
    "RCO87": _l(
        "Each partner organisation in at least one cooperating pair (shared course, forum "
        "thread, joint event or agreement) whose two organisations are in different countries."
    ),
}

# The evidence's columns, per indicator.
COLUMNS: dict[str, tuple[str, ...]] = {
    "RCO81": ("event", "date", "countries", "participant", "organisation"),
    "RCO85": ("course", "learner", "organisation", "enrolled"),
    "RCR81": ("course", "learner", "organisation", "completed"),
    "RCO87": ("organisation", "country", "partners"),
}

COLUMN_WORDS: dict[str, Any] = {
    "event": _l("Event"),
    "date": _l("Date"),
    "countries": _l("Countries of the organisers"),
    "participant": _l("Participant"),
    "organisation": _l("Organisation"),
    "course": _l("Course"),
    "learner": _l("Learner"),
    "enrolled": _l("Enrolled"),
    "completed": _l("Completed"),
    "country": _l("Country"),
    "partners": _l("Partners across borders"),
}


def _end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999, tzinfo=UTC)


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.name if not user.is_erased else f"#{user.id}"


def _rco81(db_session: Session, until: date) -> list[dict[str, Any]]:
    events = db_session.scalars(
        select(Event)
        .where(Event.joint_action.is_(True), Event.starts_on <= until)
        .options(
            selectinload(Event.organisers),
            selectinload(Event.attendances).selectinload(EventAttendance.user),
            selectinload(Event.attendances).selectinload(EventAttendance.organisation),
        )
        .order_by(Event.starts_on, Event.id)
    )
    rows = []
    for event in events:
        countries = sorted({o.country for o in event.organisers if o.country})
        if len(countries) < 2:
            continue
        for attendance in sorted(event.attendances, key=lambda a: a.id):
            org = attendance.organisation or (attendance.user and attendance.user.organisation)
            rows.append(
                {
                    "event": event.title,
                    "date": event.starts_on.isoformat(),
                    "countries": " ".join(countries),
                    "participant": _person(attendance.user) or attendance.name,
                    "organisation": org.name if org else "",
                }
            )
    return rows


def _joint_enrolments(db_session: Session, completed: bool, until: date) -> list[dict[str, Any]]:
    stamp = Enrolment.completed_at if completed else Enrolment.enrolled_at
    query = (
        select(Enrolment, Course.title, User, Organisation.name)
        .join(Course, Course.id == Enrolment.course_id)
        .join(User, User.id == Enrolment.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Course.joint_training.is_(True), stamp.is_not(None), stamp <= _end_of(until))
        .order_by(stamp, Enrolment.id)
    )
    key = "completed" if completed else "enrolled"
    rows = []
    for enrolment, title, user, org_name in db_session.execute(query):
        when = enrolment.completed_at if completed else enrolment.enrolled_at
        rows.append(
            {
                "course": title,
                "learner": _person(user),
                "organisation": org_name,
                key: when.date().isoformat() if when else "",
            }
        )
    return rows


def _rco87(db_session: Session, until: date) -> list[dict[str, Any]]:
    across: dict[int, tuple[Organisation, set[str]]] = {}
    for pair in cooperation.cooperating_pairs(db_session, until):
        if not pair.across_borders:
            continue
        for org, other in ((pair.org_a, pair.org_b), (pair.org_b, pair.org_a)):
            across.setdefault(org.id, (org, set()))[1].add(other.name)
    return [
        {"organisation": org.name, "country": org.country, "partners": "; ".join(sorted(names))}
        for org, names in sorted(across.values(), key=lambda item: item[0].name.casefold())
    ]


EVIDENCE: dict[str, Callable[[Session, date], list[dict[str, Any]]]] = {
    "RCO81": _rco81,
    "RCO85": lambda s, until: _joint_enrolments(s, False, until),
    "RCR81": lambda s, until: _joint_enrolments(s, True, until),
    "RCO87": _rco87,
}


@dataclass
class Indicator:
    code: str
    name: str
    rule: str
    value: int
    evidence: list[dict[str, Any]]


def evidence(db_session: Session, code: str, until: date) -> list[dict[str, Any]]:
    if code not in EVIDENCE:
        raise NotFound(str(_l("No such indicator.")))
    return EVIDENCE[code](db_session, until)


def panel(db_session: Session, until: date) -> list[Indicator]:
    """The four indicators as they stand at the end of `until`."""
    result = []
    for code in CODES:
        rows = evidence(db_session, code, until)
        result.append(Indicator(code, str(NAMES[code]), str(RULES[code]), len(rows), rows))
    return result


# --- Snapshots ---------------------------------------------------------------------


def snapshots(db_session: Session) -> list[IndicatorSnapshot]:
    return list(
        db_session.scalars(select(IndicatorSnapshot).order_by(IndicatorSnapshot.reporting_date))
    )


def get_snapshot(db_session: Session, snapshot_id: int) -> IndicatorSnapshot:
    snapshot = db_session.get(IndicatorSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound(str(_l("No such snapshot.")))
    return snapshot


def snapshot_evidence(
    db_session: Session, snapshot: IndicatorSnapshot, code: str
) -> list[dict[str, Any]]:
    if code not in CODES:
        raise NotFound(str(_l("No such indicator.")))
    return list(
        db_session.scalars(
            select(IndicatorEvidence.row)
            .where(
                IndicatorEvidence.snapshot_id == snapshot.id, IndicatorEvidence.indicator == code
            )
            .order_by(IndicatorEvidence.id)
        )
    )


def _rules_in_every_language() -> dict[str, dict[str, str]]:
    """Each counting rule as stated now, in every language of the site: a snapshot
    shows its reader the rule in their language, whoever froze it."""
    languages = current_app.config["LANGUAGES"] if has_app_context() else ["en"]
    rules: dict[str, dict[str, str]] = {code: {} for code in CODES}
    for language in languages:
        with force_locale(language):
            for code in CODES:
                rules[code][language] = str(RULES[code])
    return rules


def snapshot_rule(snapshot: IndicatorSnapshot, code: str, language: str) -> str:
    """A snapshot's counting rule for `code` in `language` (else English)."""
    rule = snapshot.rules.get(code, "")
    if isinstance(rule, dict):
        return str(rule.get(language) or rule.get("en") or next(iter(rule.values()), ""))
    return str(rule)  # frozen when a rule was kept in one language


def freeze(
    db_session: Session, actor: User, reporting_date: date, today: date, address: str | None
) -> IndicatorSnapshot:
    """Store the panel as it stands at the end of `reporting_date` (one snapshot per date)."""
    if reporting_date > today:
        raise Invalid(str(_l("The reporting date cannot be in the future.")))
    taken = db_session.scalar(
        select(func.count())
        .select_from(IndicatorSnapshot)
        .where(IndicatorSnapshot.reporting_date == reporting_date)
    )
    if taken:
        raise Conflict(str(_l("A snapshot for this reporting date is already frozen.")))
    indicators = panel(db_session, reporting_date)
    snapshot = IndicatorSnapshot(
        reporting_date=reporting_date,
        taken_by_id=actor.id,
        figures={i.code: i.value for i in indicators},
        rules=_rules_in_every_language(),
    )
    snapshot.evidence = [
        IndicatorEvidence(indicator=i.code, row=row) for i in indicators for row in i.evidence
    ]
    db_session.add(snapshot)
    db_session.flush()
    audit(
        db_session,
        actor,
        "indicators.freeze",
        "indicator_snapshot",
        snapshot.id,
        address,
        {"reporting_date": reporting_date.isoformat(), "figures": snapshot.figures},
        label=reporting_date.isoformat(),
    )
    return snapshot


def set_joint_training(
    db_session: Session, actor: User, course: Course, joint: bool, address: str | None
) -> None:
    """A network administrator counts a course as a joint training scheme (or stops)."""
    if not actor.is_network_admin:
        raise Forbidden(str(_l("Only network administrators set the joint training schemes.")))
    if course.joint_training == joint:
        return
    course.joint_training = joint
    audit(
        db_session,
        actor,
        "course.joint_training",
        "course",
        course.id,
        address,
        {"joint_training": joint},
        label=course.title,
    )
