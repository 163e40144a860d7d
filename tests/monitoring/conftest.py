"""A small network for monitoring: a root, three partners in three countries
(one with a school below it), a partner without a country under the root."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from vle.accounts.models import Organisation
from vle.community.models import Event, EventAttendance, Forum, Post, Thread
from vle.learning.models import Enrolment


@pytest.fixture
def world(session, make_org, make_user, make_course):
    network = make_org(code="net", name="Network")
    vilnius = make_org(code="vilnius", name="Vilnius municipality", parent=network)
    school = make_org(code="school", name="Vilnius school", parent=vilnius)
    kaunas = make_org(code="kaunas", name="Kaunas library", parent=network)
    tromso = make_org(code="tromso", name="Tromsø library", parent=network)
    gdansk = make_org(code="gdansk", name="Gdańsk college", parent=network)
    for org, country in (
        (vilnius, "LT"),
        (school, "LT"),
        (kaunas, "LT"),
        (tromso, "NO"),
        (gdansk, "PL"),
    ):
        session.get(Organisation, org.id).country = country
    session.commit()
    w = SimpleNamespace(
        network=network, vilnius=vilnius, school=school, kaunas=kaunas, tromso=tromso,
        gdansk=gdansk,
        network_admin=make_user("admin", org=network, email="net@example.org", network=True),
        city_admin=make_user("admin", org=vilnius, email="city@example.org"),
        norway_admin=make_user("admin", org=tromso, email="norway@example.org"),
        pupil=make_user("learner", org=school, email="pupil@example.org", name="Pupil"),
        reader=make_user("learner", org=kaunas, email="reader@example.org", name="Reader"),
        ola=make_user("learner", org=tromso, email="ola@example.org", name="Ola"),
        anna=make_user("learner", org=gdansk, email="anna@example.org", name="Anna"),
        course=make_course(slug="joint", title="Joint course"),
        other=make_course(slug="other", title="Other course"),
    )  # fmt: skip
    # A shared course: the school's pupil (Vilnius) and Ola (Tromsø), 2026-02-01 / 2026-03-01.
    session.add_all([
        Enrolment(user_id=w.pupil.id, course_id=w.course.id, enrolled_at=datetime(2026, 2, 1, tzinfo=UTC),
                  status="completed", progress=100, completed_at=datetime(2026, 4, 1, tzinfo=UTC)),
        Enrolment(user_id=w.ola.id, course_id=w.course.id, enrolled_at=datetime(2026, 3, 1, tzinfo=UTC)),
        # Alone in a course: no pair.
        Enrolment(user_id=w.anna.id, course_id=w.other.id, enrolled_at=datetime(2026, 1, 5, tzinfo=UTC)),
    ])  # fmt: skip
    # A thread: Anna (Gdańsk) and Reader (Kaunas) posted, 2026-05-02 and 2026-05-03.
    forum = Forum(title="Network forum")
    thread = Thread(forum=forum, subject="Hello", author_id=w.anna.id)
    session.add_all([
        forum, thread,
        Post(thread=thread, author_id=w.anna.id, source="Hi", created_at=datetime(2026, 5, 2, tzinfo=UTC)),
        Post(thread=thread, author_id=w.reader.id, source="Hi", created_at=datetime(2026, 5, 3, tzinfo=UTC)),
        # A hidden post links no one.
        Post(thread=thread, author_id=w.ola.id, source="x", created_at=datetime(2026, 5, 4, tzinfo=UTC),
             hidden=True),
    ])  # fmt: skip
    # A joint action by Vilnius and Gdańsk with two attendances; a joint action of one
    # country only (Vilnius and Kaunas), and a non-flagged event by Tromsø and Gdańsk.
    joint = Event(title="Reading week", starts_on=date(2026, 6, 1), place="Vilnius",
                  joint_action=True,
                  organisers=[session.get(Organisation, vilnius.id),
                              session.get(Organisation, gdansk.id)])  # fmt: skip
    joint.attendances = [
        EventAttendance(user_id=w.pupil.id),
        EventAttendance(name="Mr Guest", organisation_id=gdansk.id),
    ]
    local = Event(title="Local fair", starts_on=date(2026, 6, 2), place="Kaunas",
                  joint_action=True,
                  organisers=[session.get(Organisation, vilnius.id),
                              session.get(Organisation, kaunas.id)],
                  attendances=[EventAttendance(user_id=w.reader.id)])  # fmt: skip
    plain = Event(title="Plain", starts_on=date(2026, 7, 1), place="Oslo",
                  organisers=[session.get(Organisation, tromso.id),
                              session.get(Organisation, gdansk.id)],
                  attendances=[EventAttendance(user_id=w.ola.id)])  # fmt: skip
    session.add_all([joint, local, plain])
    session.commit()
    return w
