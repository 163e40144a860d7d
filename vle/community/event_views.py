"""The register's pages: /network/events and /network/agreements.

Everyone signed in reads them; adding, changing and deleting is asked of
vle/community/events.py for every object (network administrators and the
administrators of one of its organisations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from vle import db
from vle.accounts import services as accounts
from vle.accounts.models import Organisation
from vle.community import directory, events
from vle.community.directory_forms import (
    AgreementForm,
    DeleteForm,
    EventForm,
    RegisterFilterForm,
)
from vle.community.models import Agreement, Event
from vle.community.views import bp
from vle.db import utcnow
from vle.errors import DomainError, Forbidden, Invalid, NotFound
from vle.forms import choice
from vle.security import require


def _countries() -> dict[str, str]:
    return directory.country_names(str(get_locale() or "en"))


def _filters(register: events.Register) -> RegisterFilterForm:
    form = RegisterFilterForm(request.args)
    names = _countries()
    form.country.choices = [choice("", _("Any country"))] + [
        choice(code, names.get(code, code)) for code in register.countries
    ]
    form.year.choices = [choice("", _("Any year"))] + [
        choice(str(year), str(year)) for year in register.years
    ]
    return form


def _year() -> int | None:
    year = request.args.get("year", "")
    return int(year) if year.isdigit() and 1900 <= int(year) <= 9999 else None


def _register_page(kind: str) -> str:
    db_session = db.session()
    read = events.events_register if kind == "events" else events.agreements_register
    everything = read(db_session, utcnow().date())
    register = read(db_session, utcnow().date(), request.args.get("country", ""), _year())
    register.years, register.countries = everything.years, everything.countries
    return render_template(
        f"community/{kind}.html",
        register=register,
        form=_filters(register),
        countries=_countries(),
        may_add=events.may_add(current_user),
    )


@bp.get("/events", endpoint="events")
@login_required
def events_list() -> str:
    return _register_page("events")


@bp.get("/agreements")
@login_required
def agreements() -> str:
    return _register_page("agreements")


def _event(event_id: int) -> Event:
    try:
        return events.get_event(db.session(), event_id)
    except NotFound:
        abort(404)


def _agreement(agreement_id: int) -> Agreement:
    try:
        return events.get_agreement(db.session(), agreement_id)
    except NotFound:
        abort(404)


@bp.get("/events/<int:event_id>")
@login_required
def event(event_id: int) -> str:
    item = _event(event_id)
    return render_template(
        "community/event.html",
        event=item,
        countries=_countries(),
        may_change=events.may_change(current_user, item.organisers),
    )


@bp.get("/agreements/<int:agreement_id>")
@login_required
def agreement(agreement_id: int) -> str:
    item = _agreement(agreement_id)
    return render_template(
        "community/agreement.html",
        agreement=item,
        may_change=events.may_change(current_user, item.parties),
    )


def _organisation_choices() -> list[Any]:
    orgs = list(db.session().scalars(select(Organisation)))
    return [
        choice(org.code, f"{'— ' * depth}{org.name} ({org.code})")
        for org, depth in accounts.tree_order(orgs)
    ]


def _organisations(codes: list[str], field: str) -> list[Organisation]:
    try:
        return events.organisations_by_code(db.session(), codes)
    except Invalid as error:
        raise events.RegisterRefused(field, error.message) from error


def _saved(form: Any, save: Any, target: Any) -> Any:
    """Run `save(db_session)`; committed, go to `target(result)`. A refusal
    changes nothing and is shown beside its field."""
    db_session = db.session()
    try:
        result = save(db_session)
    except Forbidden:
        db_session.rollback()
        abort(403)
    except DomainError as error:
        db_session.rollback()
        field = form[getattr(error, "field", "title")]
        field.errors = [*field.errors, error.message]
        return None
    db_session.commit()
    flash(_("Saved."), "success")
    return redirect(target(result))


def _form_page(template: str, form: Any, **context: Any) -> Any:
    """The form, again after a POST that was not accepted (422)."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def _confirm_delete(
    remove: Callable[[Any], None], question: str, done: str, back: str, listing: str
) -> Any:
    """Ask first (GET); the confirmed POST deletes, says so and goes to the list."""
    form = DeleteForm()
    if form.validate_on_submit():
        db_session = db.session()
        remove(db_session)
        db_session.commit()
        flash(done, "success")
        return redirect(listing)
    return render_template("community/delete.html", form=form, question=question, back=back)


# --- Events --------------------------------------------------------------------------


def _event_form(item: Event | None) -> EventForm:
    form = EventForm(obj=item)
    form.organisers.choices = _organisation_choices()
    names = _countries()
    form.countries.choices = [choice(code, name) for code, name in names.items()]
    if item is not None and request.method == "GET":
        own = {o.country for o in item.organisers}
        form.organisers.data = [o.code for o in item.organisers]
        form.countries.data = [c for c in item.countries or [] if c not in own]
        form.attendees.data = "\n".join(a.user.email for a in item.attendances if a.user)
        form.guests.data = "\n".join(
            f"{a.name}; {a.organisation.code}" if a.organisation else a.name
            for a in item.attendances
            if a.user is None
        )
    return form


def _event_fields(form: EventForm) -> events.EventFields:
    guests = []
    for line in (form.guests.data or "").splitlines():
        name, _sep, code = line.partition(";")
        if name.strip():
            guests.append(events.Guest(name.strip(), code.strip()))
    return events.EventFields(
        title=form.title.data or "",
        description=form.description.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        place=form.place.data or "",
        online=bool(form.online.data),
        organisers=_organisations(form.organisers.data or [], "organisers"),
        countries=[c for c in form.countries.data or [] if c in _countries()],
        attendees=(form.attendees.data or "").splitlines(),
        guests=guests,
        # Only a network administrator's form carries it; anyone else's leaves it as it is.
        joint_action=bool(form.joint_action.data) if current_user.is_network_admin else None,
    )


def _edit_event(item: Event | None) -> Any:
    form = _event_form(item)
    if form.validate_on_submit():

        def save(db_session: Any) -> Event:
            return events.save_event(
                db_session, current_user, item, _event_fields(form), request.remote_addr
            )

        saved = _saved(form, save, lambda e: url_for("community.event", event_id=e.id))
        if saved is not None:
            return saved
    return _form_page("community/event_form.html", form, event=item)


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event() -> Any:
    require(events.may_add(current_user))
    return _edit_event(None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int) -> Any:
    item = _event(event_id)
    require(events.may_change(current_user, item.organisers))
    return _edit_event(item)


@bp.route("/events/<int:event_id>/delete", methods=["GET", "POST"])
@login_required
def delete_event(event_id: int) -> Any:
    item = _event(event_id)
    require(events.may_change(current_user, item.organisers))
    return _confirm_delete(
        lambda db_session: events.delete_event(db_session, current_user, item, request.remote_addr),
        question=_("Delete the event %(title)s?", title=item.title),
        done=_("The event %(title)s is deleted.", title=item.title),
        back=url_for("community.event", event_id=item.id),
        listing=url_for("community.events"),
    )


# --- Agreements ----------------------------------------------------------------------


def _agreement_form(item: Agreement | None) -> AgreementForm:
    form = AgreementForm(obj=item)
    form.parties.choices = _organisation_choices()
    if item is not None and request.method == "GET":
        form.parties.data = [o.code for o in item.parties]
    return form


def _edit_agreement(item: Agreement | None) -> Any:
    form = _agreement_form(item)
    if form.validate_on_submit():

        def save(db_session: Any) -> Agreement:
            values = events.AgreementFields(
                title=form.title.data or "",
                description=form.description.data or "",
                signed_on=form.signed_on.data,
                ends_on=form.ends_on.data,
                parties=_organisations(form.parties.data or [], "parties"),
            )
            return events.save_agreement(
                db_session, current_user, item, values, request.remote_addr
            )

        saved = _saved(form, save, lambda a: url_for("community.agreement", agreement_id=a.id))
        if saved is not None:
            return saved
    return _form_page("community/agreement_form.html", form, agreement=item)


@bp.route("/agreements/new", methods=["GET", "POST"])
@login_required
def new_agreement() -> Any:
    require(events.may_add(current_user))
    return _edit_agreement(None)


@bp.route("/agreements/<int:agreement_id>/edit", methods=["GET", "POST"])
@login_required
def edit_agreement(agreement_id: int) -> Any:
    item = _agreement(agreement_id)
    require(events.may_change(current_user, item.parties))
    return _edit_agreement(item)


@bp.route("/agreements/<int:agreement_id>/delete", methods=["GET", "POST"])
@login_required
def delete_agreement(agreement_id: int) -> Any:
    item = _agreement(agreement_id)
    require(events.may_change(current_user, item.parties))
    return _confirm_delete(
        lambda db_session: events.delete_agreement(
            db_session, current_user, item, request.remote_addr
        ),
        question=_("Delete the agreement %(title)s?", title=item.title),
        done=_("The agreement %(title)s is deleted.", title=item.title),
        back=url_for("community.agreement", agreement_id=item.id),
        listing=url_for("community.agreements"),
    )
