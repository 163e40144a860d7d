"""The register of joint events and cooperation agreements (PRODUCT.md §2).

Every signed-in user reads the register. An event or an agreement is added,
changed and deleted by network administrators and by the administrators of
one of its organisers (parties): their subtree must hold one of them, before
the change and after it. Only a network administrator says whether an event
counts as a joint action across borders (the monitoring indicators).

Both feed the network picture: `event_pairs` and `agreement_pairs` say which
organisations cooperate through them, and since when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any, NamedTuple

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from vle.accounts.models import Organisation, User
from vle.audit import audit
from vle.community.models import (
    Agreement,
    Event,
    EventAttendance,
    agreement_parties,
    event_organisers,
)
from vle.errors import Forbidden, Invalid, NotFound


class RegisterRefused(Invalid):
    """A value the rules refuse; `field` names the form's field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def may_add(user: Any) -> bool:
    """Administrators add events and agreements (for organisations they administer)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_admin


def may_change(user: Any, organisations: Iterable[Organisation]) -> bool:
    """Network administrators, and administrators of one of the organisations."""
    if not may_add(user):
        return False
    return user.is_network_admin or any(user.administers(org) for org in organisations)


# --- Reading -------------------------------------------------------------------------


def _events_query() -> Any:
    return select(Event).options(
        selectinload(Event.organisers),
        selectinload(Event.attendances).selectinload(EventAttendance.user),
        selectinload(Event.attendances).selectinload(EventAttendance.organisation),
    )


def get_event(db_session: Session, event_id: int) -> Event:
    event = db_session.scalar(_events_query().where(Event.id == event_id))
    if event is None:
        raise NotFound(_("There is no such event."))
    return event


def get_agreement(db_session: Session, agreement_id: int) -> Agreement:
    agreement = db_session.scalar(
        select(Agreement)
        .options(selectinload(Agreement.parties))
        .where(Agreement.id == agreement_id)
    )
    if agreement is None:
        raise NotFound(_("There is no such agreement."))
    return agreement


@dataclass
class Register:
    upcoming: list[Any] = field(default_factory=list)
    past: list[Any] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


def _event_countries(event: Event) -> set[str]:
    return set(event.countries or []) | {o.country for o in event.organisers if o.country}


def events_register(
    db_session: Session, today: date, country: str = "", year: int | None = None
) -> Register:
    """Events ahead (soonest first) and past (latest first), filtered by a
    country taking part and the year they start in."""
    events = list(db_session.scalars(_events_query().order_by(Event.starts_on, Event.id)))
    register = Register(
        years=sorted({e.starts_on.year for e in events}, reverse=True),
        countries=sorted(set().union(*(_event_countries(e) for e in events))),
    )
    for event in events:
        if country and country not in _event_countries(event):
            continue
        if year and event.starts_on.year != year:
            continue
        if (event.ends_on or event.starts_on) >= today:
            register.upcoming.append(event)
        else:
            register.past.insert(0, event)
    return register


def agreements_register(
    db_session: Session, today: date, country: str = "", year: int | None = None
) -> Register:
    """Agreements in force (upcoming: not ended) and ended, filtered by a
    party's country and the year of signing."""
    agreements = list(
        db_session.scalars(
            select(Agreement)
            .options(selectinload(Agreement.parties))
            .order_by(Agreement.signed_on.desc(), Agreement.id)
        )
    )
    register = Register(
        years=sorted({a.signed_on.year for a in agreements}, reverse=True),
        countries=sorted({o.country for a in agreements for o in a.parties if o.country}),
    )
    for agreement in agreements:
        if country and country not in {o.country for o in agreement.parties}:
            continue
        if year and agreement.signed_on.year != year:
            continue
        ended = agreement.ends_on is not None and agreement.ends_on < today
        (register.past if ended else register.upcoming).append(agreement)
    return register


def events_of(db_session: Session, org: Organisation) -> list[Event]:
    """The events `org` organised or someone of it attended, latest first."""
    attended = select(EventAttendance.event_id).where(
        or_(
            EventAttendance.organisation_id == org.id,
            EventAttendance.user_id.in_(select(User.id).where(User.organisation_id == org.id)),
        )
    )
    organised = select(event_organisers.c.event_id).where(
        event_organisers.c.organisation_id == org.id
    )
    return list(
        db_session.scalars(
            select(Event)
            .where(or_(Event.id.in_(organised), Event.id.in_(attended)))
            .order_by(Event.starts_on.desc(), Event.id)
        )
    )


def agreements_of(db_session: Session, org: Organisation) -> list[Agreement]:
    """The agreements `org` is a party to, latest first."""
    return list(
        db_session.scalars(
            select(Agreement)
            .join(agreement_parties, agreement_parties.c.agreement_id == Agreement.id)
            .where(agreement_parties.c.organisation_id == org.id)
            .order_by(Agreement.signed_on.desc(), Agreement.id)
        )
    )


# --- Writing -------------------------------------------------------------------------


def organisations_by_code(db_session: Session, codes: Iterable[str]) -> list[Organisation]:
    """The organisations of these codes, in the order given; an unknown code is refused."""
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    found = {
        o.code: o
        for o in db_session.scalars(select(Organisation).where(Organisation.code.in_(wanted)))
    }
    unknown = [code for code in wanted if code not in found]
    if unknown:
        raise Invalid(_("No organisation has the code %(codes)s.", codes=", ".join(unknown)))
    return [found[code] for code in wanted]


@dataclass
class Guest:
    """Someone who attended without an account of vle: a name, and the
    organisation they came from when it is in vle (its code)."""

    name: str
    organisation: str = ""


def _check_dates(starts: date, ends: date | None, field_name: str, message: str) -> None:
    if ends is not None and ends < starts:
        raise RegisterRefused(field_name, message)


def _attendances(
    db_session: Session, emails: Iterable[str], guests: Iterable[Guest]
) -> list[EventAttendance]:
    rows: list[EventAttendance] = []
    wanted: list[str] = []
    for email in emails:
        email = email.strip()
        if not email:
            continue
        try:
            wanted.append(validate_email(email, check_deliverability=False).normalized.lower())
        except EmailNotValidError as error:
            raise RegisterRefused(
                "attendees", _("%(email)s is not an e-mail address.", email=email)
            ) from error
    wanted = list(dict.fromkeys(wanted))
    users = {u.email: u for u in db_session.scalars(select(User).where(User.email.in_(wanted)))}
    unknown = [email for email in wanted if email not in users]
    if unknown:
        raise RegisterRefused(
            "attendees",
            _(
                "No one in %(site)s has the e-mail address %(emails)s.",
                site=current_app.config["SITE_NAME"] if has_app_context() else "vle",
                emails=", ".join(unknown),
            ),
        )
    rows += [EventAttendance(user=users[email]) for email in wanted]
    for guest in guests:
        name = guest.name.strip()
        if not name:
            continue
        organisation = None
        if guest.organisation.strip():
            try:
                [organisation] = organisations_by_code(db_session, [guest.organisation])
            except Invalid as error:
                raise RegisterRefused("guests", error.message) from error
        rows.append(EventAttendance(name=name[:200], organisation=organisation))
    return rows


@dataclass
class EventFields:
    title: str
    starts_on: date
    description: str = ""
    ends_on: date | None = None
    place: str = ""
    online: bool = False
    organisers: list[Organisation] = field(default_factory=list)
    # Countries taking part beyond the organisers' own (ISO 3166-1 alpha-2).
    countries: list[str] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)  # e-mail addresses of people of vle
    guests: list[Guest] = field(default_factory=list)
    # None: leave it as it is (only a network administrator may set it).
    joint_action: bool | None = None


def _snapshot(event: Event) -> dict[str, Any]:
    return {
        "title": event.title,
        "description": event.description,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "place": event.place,
        "online": event.online,
        "countries": list(event.countries or []),
        "joint_action": event.joint_action,
        "organisers": sorted(o.id for o in event.organisers),
        "attendances": sorted(
            (a.user_id or 0, a.name, a.organisation_id or 0) for a in event.attendances
        ),
    }


def save_event(
    db_session: Session,
    actor: User,
    event: Event | None,
    values: EventFields,
    address: str | None,
) -> Event:
    """Add an event (`event` None) or change one. The actor must administer one
    of its organisers before and after; it has at least one organiser, a place
    or is online, and ends no earlier than it starts. Audited."""
    if event is not None and not may_change(actor, event.organisers):
        raise Forbidden(_("You may not change this event."))
    if not may_add(actor):
        raise Forbidden(_("You may not add events."))
    if not values.organisers:
        raise RegisterRefused("organisers", _("Choose at least one organiser."))
    if not may_change(actor, values.organisers):
        raise RegisterRefused("organisers", _("Choose at least one organiser you administer."))
    title = values.title.strip()
    if not title:
        raise RegisterRefused("title", _("Give the event a title."))
    _check_dates(
        values.starts_on, values.ends_on, "ends_on", _("The event cannot end before it starts.")
    )
    if not values.online and not values.place.strip():
        raise RegisterRefused("place", _("Give the place, or say the event is online."))
    joint_action = event.joint_action if event is not None else False
    if values.joint_action is not None and values.joint_action != joint_action:
        if not actor.is_network_admin:
            raise Forbidden(_("Only a network administrator says what counts as a joint action."))
        joint_action = values.joint_action
    attendances = _attendances(db_session, values.attendees, values.guests)
    before = _snapshot(event) if event is not None else None
    if event is None:
        event = Event(created_by_id=actor.id)
        db_session.add(event)
    countries = {o.country for o in values.organisers if o.country}
    countries |= {c.strip().upper() for c in values.countries if c.strip()}
    event.title = title[:300]
    event.description = values.description.strip()
    event.starts_on = values.starts_on
    event.ends_on = values.ends_on
    event.place = values.place.strip()[:300]
    event.online = values.online
    event.countries = sorted(countries)
    event.joint_action = joint_action
    event.organisers = list(values.organisers)
    if before is None or _attendance_keys(attendances) != _attendance_keys(event.attendances):
        event.attendances = attendances
    db_session.flush()
    after = _snapshot(event)
    if before is None:
        _audit(db_session, actor, "event.create", event, address, {})
    else:
        changed = sorted(k for k in after if after[k] != before[k])
        if changed:
            _audit(db_session, actor, "event.update", event, address, {"changed": changed})
    return event


def _attendance_keys(rows: Iterable[EventAttendance]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            a.user.id if a.user is not None else (a.user_id or 0),
            a.name,
            a.organisation.id if a.organisation is not None else (a.organisation_id or 0),
        )
        for a in rows
    )


def _audit(
    db_session: Session,
    actor: User,
    action: str,
    target: Event | Agreement,
    address: str | None,
    details: dict[str, Any],
) -> None:
    organisers = target.organisers if isinstance(target, Event) else target.parties
    audit(
        db_session,
        actor,
        action,
        "event" if isinstance(target, Event) else "agreement",
        target.id,
        address,
        details,
        # Read by the administrators of its first organiser (and network administrators).
        organisation_id=organisers[0].id if organisers else None,
        label=target.title,
    )


def delete_event(db_session: Session, actor: User, event: Event, address: str | None) -> None:
    if not may_change(actor, event.organisers):
        raise Forbidden(_("You may not change this event."))
    _audit(db_session, actor, "event.delete", event, address, {})
    db_session.delete(event)
    db_session.flush()


@dataclass
class AgreementFields:
    title: str
    signed_on: date
    description: str = ""
    ends_on: date | None = None
    parties: list[Organisation] = field(default_factory=list)


def save_agreement(
    db_session: Session,
    actor: User,
    agreement: Agreement | None,
    values: AgreementFields,
    address: str | None,
) -> Agreement:
    """Add an agreement (`agreement` None) or change one: two or more parties,
    one of which the actor administers (before and after); it cannot end
    before it was signed. Audited."""
    if agreement is not None and not may_change(actor, agreement.parties):
        raise Forbidden(_("You may not change this agreement."))
    if not may_add(actor):
        raise Forbidden(_("You may not add agreements."))
    if len({o.id for o in values.parties}) < 2:
        raise RegisterRefused("parties", _("An agreement has at least two parties."))
    if not may_change(actor, values.parties):
        raise RegisterRefused("parties", _("Choose at least one party you administer."))
    title = values.title.strip()
    if not title:
        raise RegisterRefused("title", _("Give the agreement a title."))
    _check_dates(
        values.signed_on,
        values.ends_on,
        "ends_on",
        _("The agreement cannot end before it was signed."),
    )
    before = None
    if agreement is None:
        agreement = Agreement(created_by_id=actor.id)
        db_session.add(agreement)
    else:
        before = _agreement_snapshot(agreement)
    agreement.title = title[:300]
    agreement.description = values.description.strip()
    agreement.signed_on = values.signed_on
    agreement.ends_on = values.ends_on
    agreement.parties = list(dict.fromkeys(values.parties))
    db_session.flush()
    if before is None:
        _audit(db_session, actor, "agreement.create", agreement, address, {})
    else:
        after = _agreement_snapshot(agreement)
        changed = sorted(k for k in after if after[k] != before[k])
        if changed:
            _audit(db_session, actor, "agreement.update", agreement, address, {"changed": changed})
    return agreement


def _agreement_snapshot(agreement: Agreement) -> dict[str, Any]:
    return {
        "title": agreement.title,
        "description": agreement.description,
        "signed_on": agreement.signed_on,
        "ends_on": agreement.ends_on,
        "parties": sorted(o.id for o in agreement.parties),
    }


def delete_agreement(
    db_session: Session, actor: User, agreement: Agreement, address: str | None
) -> None:
    if not may_change(actor, agreement.parties):
        raise Forbidden(_("You may not change this agreement."))
    _audit(db_session, actor, "agreement.delete", agreement, address, {})
    db_session.delete(agreement)
    db_session.flush()


# --- Who cooperates with whom ----------------------------------------------------------


class Pair(NamedTuple):
    """Two organisations that cooperate (`org_a.id < org_b.id`), through what
    ("event", "agreement", …) and since when (the earliest such date)."""

    org_a: Organisation
    org_b: Organisation
    via: str
    since: date


def _pairs(groups: Iterable[tuple[list[Organisation], date]], via: str) -> list[Pair]:
    earliest: dict[tuple[int, int], tuple[Organisation, Organisation, date]] = {}
    for organisations, day in groups:
        unique = sorted({o.id: o for o in organisations}.values(), key=lambda o: o.id)
        for a, b in combinations(unique, 2):
            known = earliest.get((a.id, b.id))
            if known is None or day < known[2]:
                earliest[(a.id, b.id)] = (a, b, day)
    return [Pair(a, b, via, day) for (a, b, day) in sorted(earliest.values(), key=_pair_key)]


def _pair_key(row: tuple[Organisation, Organisation, date]) -> tuple[int, int]:
    return (row[0].id, row[1].id)


def event_pairs(db_session: Session) -> list[Pair]:
    """Co-organisers of a joint event cooperate, from the first event they shared."""
    events = db_session.scalars(select(Event).options(selectinload(Event.organisers)))
    return _pairs(((e.organisers, e.starts_on) for e in events), "event")


def agreement_pairs(db_session: Session) -> list[Pair]:
    """The parties of an agreement cooperate, from its signing."""
    agreements = db_session.scalars(select(Agreement).options(selectinload(Agreement.parties)))
    return _pairs(((a.parties, a.signed_on) for a in agreements), "agreement")


def cooperating_pairs(db_session: Session) -> list[Pair]:
    """Every pair cooperating through the register: one row per pair and source."""
    return event_pairs(db_session) + agreement_pairs(db_session)
