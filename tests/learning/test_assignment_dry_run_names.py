"""The dry run of an organisation assignment names the people it would enrol:
the first 50 by name (name, e-mail, organisation), then "and N more" — not
only a count."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.learning.test_assignment_faces import assign_form, signed_in
from tests.learning.test_assignments import world as world  # noqa: F401 - a fixture
from vle.learning import assignments
from vle.learning.models import Assignment


def rows(html):
    return re.findall(
        r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td></tr>', html
    )


def test_the_dry_run_lists_who_will_be_enrolled(client, session, world):
    signed_in(client, world.admin)
    html = assign_form(client, "safety", organisation="CITY", role="learner").get_data(as_text=True)
    assert "2 people of CITY will be enrolled now" in html
    assert "Who will be enrolled" in html
    assert rows(html) == [
        ("Ona Onaitė", "ona@city.lt", "Organisation CITY"),
        ("Sam School", "sam@school.lt", "Organisation SCHOOL"),
    ]
    assert "more" not in html.split("Who will be enrolled")[1].split("</section>")[0]
    assert "olga@other.lt" not in html  # outside the subtree
    assert "trainer@city.lt" not in html  # another role
    assert session.scalar(select(Assignment.id)) is None  # a dry run writes nothing


def test_the_first_fifty_by_name_and_how_many_more(client, session, world, make_user):
    for n in range(60):
        make_user(org=world.school, email=f"p{n:02d}@school.lt", name=f"Person {59 - n:02d}")
    signed_in(client, world.admin)
    html = assign_form(client, "safety", organisation="CITY", role="learner").get_data(as_text=True)
    assert "62 people of CITY will be enrolled now" in html
    listed = rows(html)
    assert len(listed) == 50
    names = [name for name, _email, _org in listed]
    assert names == sorted(names, key=str.casefold)
    assert names[:3] == ["Ona Onaitė", "Person 00", "Person 01"]
    assert listed[1] == ("Person 00", "p59@school.lt", "Organisation SCHOOL")
    assert "The first 50 of them, by name" in html
    assert "and 12 more" in html


def test_people_already_held_by_the_course_are_not_listed(session, world):
    assignments.assign_people(session, world.admin, world.course, [(1, "ona@city.lt")])
    session.commit()
    sample = assignments.organisation_sample(session, world.admin, world.course, world.city, None)
    emails = [person.email for person in sample]
    assert "ona@city.lt" not in emails
    assert "sam@school.lt" in emails and "admin@city.lt" in emails  # every role: role None
    names = [person.name.casefold() for person in sample]
    assert names == sorted(names)
    count = assignments.plan_organisation(session, world.admin, world.course, world.city, None)
    assert count == len(sample)


def test_outside_ones_scope_nobody_is_named(client, session, world):
    signed_in(client, world.admin)
    response = assign_form(client, "safety", organisation="OTHER", role="learner")
    assert response.status_code == 403
    assert "olga@other.lt" not in response.get_data(as_text=True)
