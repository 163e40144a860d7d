"""The register of joint events and cooperation agreements (issue 19, point 6):
validation, who may add and change them, joint actions set by network
administrators only, and the pairs of organisations cooperating through them."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import login, post_form
from vle.accounts.models import Organisation
from vle.audit import AuditEntry
from vle.community import events
from vle.community.models import Agreement, Event
from vle.db import utcnow
from vle.errors import Forbidden


@pytest.fixture
def world(session, make_org, make_user):
    network = make_org(code="net", name="Network")
    vilnius = make_org(code="vilnius", name="Vilnius municipality", parent=network)
    school = make_org(code="school", name="Vilnius school", parent=vilnius)
    tromso = make_org(code="tromso", name="Tromsø library", parent=network)
    gdansk = make_org(code="gdansk", name="Gdańsk college", parent=network)
    for org, country in ((vilnius, "LT"), (school, "LT"), (tromso, "NO"), (gdansk, "PL")):
        session.get(Organisation, org.id).country = country
    session.commit()
    return SimpleNamespace(
        network=network, vilnius=vilnius, school=school, tromso=tromso, gdansk=gdansk,
        city_admin=make_user("admin", org=vilnius, email="city@example.org"),
        norway_admin=make_user("admin", org=tromso, email="norway@example.org"),
        network_admin=make_user("admin", org=network, email="net@example.org", network=True),
        trainer=make_user("trainer", org=school, email="trainer@example.org", name="Rūta"),
        learner=make_user("learner", org=tromso, email="learner@example.org", name="Ola"),
    )  # fmt: skip


def _orgs(session, *orgs):
    return [session.get(Organisation, o.id) for o in orgs]


def _event(session, actor, organisers, **values):
    fields = {"title": "Reading week", "starts_on": date(2026, 3, 2), "place": "Vilnius"}
    fields.update(values)
    event = events.save_event(
        session, actor, None, events.EventFields(organisers=organisers, **fields), "192.0.2.1"
    )
    session.commit()
    return event


def test_an_event_takes_its_countries_from_its_organisers_and_more(session, world):
    event = _event(session, world.city_admin, _orgs(session, world.school, world.tromso),
                   countries=["pl", "NO"], attendees=["Trainer@Example.org"],
                   guests=[events.Guest("Anna Nowak", "gdansk"), events.Guest("Mr Guest")])  # fmt: skip
    assert event.countries == ["LT", "NO", "PL"]
    assert {(a.user.email if a.user else a.name) for a in event.attendances} == {
        "trainer@example.org", "Anna Nowak", "Mr Guest",
    }  # fmt: skip
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "event.create")).one()
    assert entry.target_id == event.id and entry.organisation_id == world.school.id


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [({"ends_on": date(2026, 3, 1)}, "ends_on", "The event cannot end before it starts."),
     ({"organisers": []}, "organisers", "Choose at least one organiser."),
     ({"place": "", "online": False}, "place", "Give the place, or say the event is online."),
     ({"title": "  "}, "title", "Give the event a title."),
     ({"attendees": ["nobody@example.org"]}, "attendees", "No one in vle has the e-mail"),
     ({"attendees": ["not-an-address"]}, "attendees", "is not an e-mail address"),
     ({"guests": [events.Guest("A guest", "atlantis")]}, "guests", "No organisation has the code")],
)  # fmt: skip
def test_an_event_the_rules_refuse_is_not_saved(session, world, values, field, message):
    fields = {"organisers": _orgs(session, world.school)} | values
    organisers = fields.pop("organisers")
    with pytest.raises(events.RegisterRefused) as refused:
        _event(session, world.city_admin, organisers, **fields)
    assert refused.value.field == field and message in refused.value.message
    session.rollback()
    assert session.scalars(select(Event)).all() == []


def test_an_online_event_needs_no_place(session, world):
    event = _event(session, world.city_admin, _orgs(session, world.school), place="", online=True)
    assert event.online and event.place == ""


def test_only_administrators_of_an_organiser_add_and_change_events(session, world):
    with pytest.raises(events.RegisterRefused, match="organiser you administer"):
        _event(session, world.norway_admin, _orgs(session, world.school))
    session.rollback()
    with pytest.raises(Forbidden):
        _event(session, world.trainer, _orgs(session, world.school))
    session.rollback()
    event = _event(session, world.city_admin, _orgs(session, world.school, world.tromso))
    # Tromsø's administrator co-organises it: they may change it, not hand it away.
    assert events.may_change(world.norway_admin, event.organisers)
    values = events.EventFields(title="Moved", starts_on=date(2026, 3, 2), place="Oslo",
                                organisers=_orgs(session, world.gdansk))  # fmt: skip
    with pytest.raises(events.RegisterRefused):
        events.save_event(session, world.norway_admin, event, values, None)
    session.rollback()
    values.organisers = _orgs(session, world.tromso)
    events.save_event(session, world.norway_admin, event, values, None)
    session.commit()
    assert not events.may_change(world.city_admin, event.organisers)
    with pytest.raises(Forbidden):
        events.delete_event(session, world.city_admin, event, None)
    update = session.scalars(select(AuditEntry).where(AuditEntry.action == "event.update")).one()
    assert {"title", "place", "organisers", "countries"} <= set(update.details["changed"])


def test_only_a_network_administrator_counts_a_joint_action(session, world):
    with pytest.raises(Forbidden):
        _event(session, world.city_admin, _orgs(session, world.school), joint_action=True)
    session.rollback()
    event = _event(session, world.network_admin, _orgs(session, world.school), joint_action=True)
    assert event.joint_action
    # The organiser's administrator changes the rest; the mark stays as it is.
    values = events.EventFields(title="Renamed", starts_on=date(2026, 3, 2), place="Vilnius",
                                organisers=_orgs(session, world.school))  # fmt: skip
    events.save_event(session, world.city_admin, event, values, None)
    session.commit()
    assert session.get(Event, event.id).joint_action is True


def test_agreements_have_two_parties_and_end_after_signing(session, world):
    def save(**values):
        fields = {"title": "Library exchange", "signed_on": date(2025, 5, 1),
                  "parties": _orgs(session, world.school, world.tromso)} | values  # fmt: skip
        return events.save_agreement(
            session, world.city_admin, None, events.AgreementFields(**fields), None
        )

    with pytest.raises(events.RegisterRefused, match="at least two parties"):
        save(parties=_orgs(session, world.school))
    with pytest.raises(events.RegisterRefused, match="cannot end before it was signed"):
        save(ends_on=date(2025, 4, 30))
    with pytest.raises(events.RegisterRefused, match="party you administer"):
        save(parties=_orgs(session, world.tromso, world.gdansk))
    session.rollback()
    agreement = save(ends_on=date(2027, 5, 1))
    session.commit()
    assert [o.code for o in agreement.parties] == ["school", "tromso"]
    assert session.scalars(select(AuditEntry.action)).all() == ["agreement.create"]
    with pytest.raises(Forbidden):
        events.delete_agreement(session, world.trainer, agreement, None)
    events.delete_agreement(session, world.norway_admin, agreement, None)
    session.commit()
    assert session.scalars(select(Agreement)).all() == []
    assert "agreement.delete" in session.scalars(select(AuditEntry.action)).all()


def test_cooperating_pairs_from_events_and_agreements_since_the_earliest(session, world):
    school, tromso, gdansk = _orgs(session, world.school, world.tromso, world.gdansk)
    _event(session, world.network_admin, [tromso, school, gdansk], starts_on=date(2026, 3, 2))
    _event(session, world.network_admin, [school, tromso], starts_on=date(2025, 9, 1))
    _event(session, world.network_admin, [gdansk], starts_on=date(2024, 1, 1))  # alone: no pair
    events.save_agreement(
        session, world.network_admin, None,
        events.AgreementFields("Exchange", date(2024, 6, 1), parties=[school, tromso]), None,
    )  # fmt: skip
    session.commit()
    pairs = {
        (p.org_a.code, p.org_b.code, p.via, p.since) for p in events.cooperating_pairs(session)
    }
    assert pairs == {
        ("school", "tromso", "event", date(2025, 9, 1)),
        ("school", "gdansk", "event", date(2026, 3, 2)),
        ("tromso", "gdansk", "event", date(2026, 3, 2)),
        ("school", "tromso", "agreement", date(2024, 6, 1)),
    }
    assert all(p.org_a.id < p.org_b.id for p in events.cooperating_pairs(session))


# --- The pages ---------------------------------------------------------------------------


def _event_form(**data):
    fields = {"title": "Reading week", "description": "", "starts_on": "2026-03-02",
              "ends_on": "", "place": "Vilnius", "organisers": ["school"], "countries": [],
              "attendees": "", "guests": ""}  # fmt: skip
    fields.update(data)
    return fields


def test_the_register_is_for_signed_in_users(client, world):
    for path in ("/network/events", "/network/agreements", "/network/events/new"):
        assert client.get(path).status_code in (302, 401)


def test_an_administrator_adds_an_event_and_everyone_reads_it(client, session, world):
    login(client, "city@example.org")
    response = post_form(client, "/network/events/new",
                         _event_form(guests="Anna Nowak; gdansk", attendees="trainer@example.org",
                                     joint_action="y"), page="/network/events/new")  # fmt: skip
    assert response.status_code == 302
    event = session.scalars(select(Event)).one()
    assert event.joint_action is False  # not theirs to set: the field is not even offered
    login(client, "learner@example.org")
    page = client.get(f"/network/events/{event.id}").get_data(as_text=True)
    assert "Reading week" in page and "Anna Nowak" in page and "Rūta" in page
    assert "Edit event" not in page
    assert client.get(f"/network/events/{event.id}/edit").status_code == 403
    assert client.get("/network/events/new").status_code == 403
    assert post_form(client, f"/network/events/{event.id}/delete").status_code == 403
    assert client.get("/network/events/999999").status_code == 404
    assert "Reading week" in client.get("/network/organisations/gdansk").get_data(as_text=True)


def test_the_event_form_says_what_is_wrong(client, session, world):
    login(client, "city@example.org")
    response = post_form(client, "/network/events/new", _event_form(ends_on="2026-03-01"),
                         page="/network/events/new")  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The event cannot end before it starts." in page and 'id="ends_on-error"' in page
    response = post_form(client, "/network/events/new", _event_form(organisers=["tromso"]),
                         page="/network/events/new")  # fmt: skip
    assert "Choose at least one organiser you administer." in response.get_data(as_text=True)
    assert session.scalars(select(Event)).all() == []


def test_a_network_administrator_marks_a_joint_action_on_the_page(client, session, world):
    login(client, "net@example.org")
    assert "Counts as a joint action across borders" in client.get("/network/events/new").get_data(
        as_text=True
    )
    post_form(client, "/network/events/new", _event_form(joint_action="y"),
              page="/network/events/new")  # fmt: skip
    assert session.scalars(select(Event)).one().joint_action is True


def test_the_register_lists_upcoming_and_past_filtered_by_country_and_year(client, session, world):
    today = utcnow().date()
    school, tromso, gdansk = _orgs(session, world.school, world.tromso, world.gdansk)
    _event(
        session, world.network_admin, [school], title="Ahead", starts_on=today + timedelta(days=30)
    )
    _event(session, world.network_admin, [tromso], title="Behind", starts_on=date(2020, 5, 5))
    _event(session, world.network_admin, [gdansk], title="Polish", starts_on=date(2021, 5, 5))
    login(client, "learner@example.org")
    page = client.get("/network/events").get_data(as_text=True)
    upcoming, past = page.split("<h2>Past</h2>")
    assert "Ahead" in upcoming and "Behind" in past and "Polish" in past
    assert page.index("Polish") < page.index("Behind")  # latest first
    page = client.get("/network/events?country=NO").get_data(as_text=True)
    assert "Behind" in page and "Ahead" not in page and "Polish" not in page
    page = client.get("/network/events?year=2021").get_data(as_text=True)
    assert "Polish" in page and "Behind" not in page
    assert client.get("/network/events?year=abc&country=%00").status_code == 200


def test_an_agreement_through_the_pages(client, session, world):
    login(client, "city@example.org")
    form = {"title": "Library exchange", "description": "Books both ways.",
            "signed_on": "2025-05-01", "ends_on": "2025-04-01", "parties": ["school", "tromso"]}  # fmt: skip
    response = post_form(client, "/network/agreements/new", form, page="/network/agreements/new")
    assert response.status_code == 422
    assert "The agreement cannot end before it was signed." in response.get_data(as_text=True)
    form["ends_on"] = ""
    assert post_form(client, "/network/agreements/new", form,
                     page="/network/agreements/new").status_code == 302  # fmt: skip
    agreement = session.scalars(select(Agreement)).one()
    page = client.get("/network/agreements").get_data(as_text=True)
    assert "Library exchange" in page and "In force" in page
    assert client.get(f"/network/agreements/{agreement.id}/delete").status_code == 200
    response = post_form(client, f"/network/agreements/{agreement.id}/delete",
                         page=f"/network/agreements/{agreement.id}/delete")  # fmt: skip
    assert response.status_code == 302
    session.rollback()  # a new transaction sees the page's change
    assert session.scalars(select(Agreement)).all() == []
