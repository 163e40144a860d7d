"""Announcements (vle/community/announcements.py and its pages): who may make
them, to exactly whom they show, their dates, the mail sent once, bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import login, post_form
from vle.audit import AuditEntry
from vle.community import announcements
from vle.community.models import Announcement
from vle.db import utcnow
from vle.errors import Forbidden, Invalid
from vle.learning import services as learning
from vle.mail import services as mail
from vle.mail.models import OutboxMail


@pytest.fixture
def world(app: Flask, session: Any, make_org: Any, make_user: Any, make_course: Any) -> Any:
    top = make_org("TOP", name="Top College")
    north = make_org("NORTH", top, name="North School")
    south = make_org("SOUTH", name="South Institute")
    boss = make_user("admin", top, network=True, name="Nina Network")
    north_admin = make_user("admin", north, name="Noah North")
    trainer = make_user("trainer", south, name="Tess Trainer")
    course = make_course(trainers=[trainer], title="Fire safety")
    pupil = make_user(org=south, name="Paul Pupil")
    northerner = make_user(org=north, name="Nora Learner")
    toplearner = make_user(org=top, name="Tom Top")
    learning.enrol(session, pupil, course)
    session.commit()
    return {"top": top, "north": north, "south": south, "boss": boss, "north_admin": north_admin,
            "trainer": trainer, "course": course, "pupil": pupil, "northerner": northerner,
            "toplearner": toplearner, "session": session, "app": app}  # fmt: skip


def _fields(**kwargs: Any) -> announcements.Fields:
    values: dict[str, Any] = {
        "title": "Closed on Friday", "message": "The office is **closed**.",
        "starts_at": None, "ends_at": None, "send_mail": False,
    }  # fmt: skip
    return announcements.Fields(**{**values, **kwargs})


def _titles(w: Any, person: str) -> list[str]:
    return [a.title for a in announcements.current_for(w["session"], w[person])]


def test_each_audience_sees_exactly_its_announcements(world):
    s = world["session"]
    announcements.create(s, world["boss"], _fields(title="For all"))
    announcements.create(
        s, world["north_admin"], _fields(title="For North", organisation=world["north"])
    )
    announcements.create(s, world["trainer"], _fields(title="For Fire", course=world["course"]))
    s.commit()
    assert _titles(world, "northerner") == ["For North", "For all"] or set(
        _titles(world, "northerner")
    ) == {"For North", "For all"}
    assert set(_titles(world, "toplearner")) == {"For all"}  # North is below Top, not above
    assert set(_titles(world, "pupil")) == {"For all", "For Fire"}
    assert set(_titles(world, "trainer")) == {"For all", "For Fire"}  # its staff
    actions = s.scalars(select(AuditEntry.action)).all()
    assert actions.count("announcement.create") == 3


def test_only_those_who_may_announce_to_an_audience_can(world):
    s = world["session"]
    with pytest.raises(Forbidden):
        announcements.create(s, world["north_admin"], _fields())  # the whole network
    with pytest.raises(Forbidden):
        announcements.create(s, world["north_admin"], _fields(organisation=world["south"]))
    with pytest.raises(Forbidden):
        announcements.create(s, world["pupil"], _fields(course=world["course"]))
    with pytest.raises(Forbidden):
        announcements.create(s, world["trainer"], _fields(organisation=world["south"]))


def test_dates_decide_when_it_shows(world):
    s = world["session"]
    now = utcnow()
    announcements.create(
        s, world["boss"], _fields(title="Later", starts_at=now + timedelta(days=1))
    )
    announcements.create(
        s, world["boss"],
        _fields(title="Over", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)),
    )  # fmt: skip
    announcements.create(s, world["boss"], _fields(title="Now", ends_at=now + timedelta(days=1)))
    s.commit()
    assert _titles(world, "pupil") == ["Now"]
    listed = [a.title for a in announcements.listing(s, world["pupil"])]
    assert listed == ["Now", "Over"]  # current first; not one yet to come
    assert [a.title for a in announcements.listing(s, world["boss"])][0] == "Now"
    assert "Later" in [a.title for a in announcements.listing(s, world["boss"])]  # its author


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"message": ""}, "message"),
        ({"title": "x" * 301}, "title"),
        ({"ends_at": utcnow() - timedelta(hours=1)}, "ends_at"),
    ],
)
def test_bad_input_is_refused_beside_its_field(world, fields, field):
    s = world["session"]
    with pytest.raises(Invalid) as refused:
        announcements.create(s, world["boss"], _fields(**fields))
    assert refused.value.field == field  # type: ignore[attr-defined]
    s.rollback()
    assert s.scalars(select(Announcement)).all() == []


def test_sent_by_mail_once_to_its_audience_respecting_opt_outs(world):
    s, app = world["session"], world["app"]
    mail.opt_out(s, world["toplearner"].email, announcements.KIND)
    announcements.create(
        s, world["north_admin"],
        _fields(title="North news", organisation=world["north"], send_mail=True),
    )  # fmt: skip
    announcements.create(s, world["boss"], _fields(title="All news", send_mail=True))
    announcements.create(s, world["boss"], _fields(title="Quiet", send_mail=False))
    s.commit()
    with app.app_context():
        for announcement_id in announcements.due_mailings(s):
            announcements.mail_announcement(s, announcement_id)
        s.commit()
        assert announcements.due_mailings(s) == []
    rows = s.execute(select(OutboxMail.to_address, OutboxMail.subject)).all()
    north = {address for address, subject in rows if "North news" in subject}
    assert north == {world["northerner"].email, world["north_admin"].email}
    everyone = {address for address, subject in rows if "All news" in subject}
    assert world["toplearner"].email not in everyone  # stopped announcements
    assert world["pupil"].email in everyone and world["boss"].email in everyone
    assert not [subject for _a, subject in rows if "Quiet" in subject]


def test_the_pages_list_create_edit_and_delete(world):
    app, s = world["app"], world["session"]
    client = app.test_client()
    assert client.get("/network/announcements").status_code == 302  # signed in only
    login(client, world["trainer"].email)
    page = client.get("/network/announcements/new")
    assert page.status_code == 200
    assert "Fire safety" in page.text and "Everyone in the network" not in page.text
    form = {
        "title": "Lab closed", "message": "Use *room 2*.", "audience": f"course:{world['course'].id}",
        "starts_at": "", "ends_at": "2020-01-01T10:00", "send_mail": "y",
    }  # fmt: skip
    refused = post_form(client, "/network/announcements/new", form, "/network/announcements/new")
    assert refused.status_code == 200
    assert "The end must come after the start." in refused.text
    assert s.scalars(select(Announcement)).all() == []
    form["ends_at"] = ""
    made = post_form(client, "/network/announcements/new", form, "/network/announcements/new")
    assert made.status_code == 302
    s.rollback()
    item = s.scalars(select(Announcement)).one()
    assert item.body_html == "<p>Use <em>room 2</em>.</p>" and item.send_mail
    listing = client.get("/network/announcements")
    assert "Lab closed" in listing.text and "Edit" in listing.text
    # Someone of another organisation may not touch it.
    other = app.test_client()
    login(other, world["north_admin"].email)
    assert other.get(f"/network/announcements/{item.id}/edit").status_code in (403, 404)
    assert post_form(
        other, f"/network/announcements/{item.id}/delete", {}, "/network/announcements"
    ).status_code in (403, 404)
    # The learner sees it on their home page; the trainer deletes it.
    learner = app.test_client()
    login(learner, world["pupil"].email)
    assert "Lab closed" in learner.get("/my").text
    edit = f"/network/announcements/{item.id}/edit"
    assert client.get(edit).status_code == 200
    gone = post_form(
        client, f"/network/announcements/{item.id}/delete", {}, "/network/announcements"
    )
    assert gone.status_code == 302
    s.rollback()
    assert s.scalars(select(Announcement)).all() == []
    assert "Lab closed" not in learner.get("/my").text
