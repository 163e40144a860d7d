"""POST /api/v1/courses/{slug}/enrolments: an administrator's enrolment of someone
else is audited and stays within the accounts they manage; the body holds what
the OpenAPI document says, and null is not a value of it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from vle.audit import AuditEntry
from vle.learning.models import Enrolment

URL = "/api/v1/courses/c/enrolments"


@pytest.fixture
def city(make_org, make_course):
    make_course(slug="c")
    return make_org("CITY")


def _enrolments(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Enrolment))


def _enrolment_entries(session) -> list[AuditEntry]:
    session.rollback()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "enrolment.create")))


def test_an_administrators_enrolment_of_someone_else_is_audited(
    client, session, city, make_user, token_for
):
    admin = make_user("admin", org=city)
    learner = make_user(org=city, email="ona@example.org")
    response = client.post(URL, headers=token_for(admin), json={"user": "ona@example.org"})
    assert response.status_code == 201
    (entry,) = _enrolment_entries(session)
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "user", learner.id)
    assert entry.target_label == "ona@example.org" and entry.details["course"] == "c"
    assert entry.organisation_id == city.id and entry.address == "127.0.0.1"
    # Enrolling oneself is not an administrator's act on someone else.
    assert client.post(URL, headers=token_for(make_user(org=city))).status_code == 201
    assert len(_enrolment_entries(session)) == 1


def test_a_scoped_administrator_cannot_enrol_the_network_administrator(
    client, session, city, make_user, token_for
):
    scoped = make_user("admin", org=city)
    network = make_user("admin", org=city, network=True, email="net@example.org")
    for ident in (network.id, "net@example.org"):
        response = client.post(URL, headers=token_for(scoped), json={"user": ident})
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert _enrolments(session) == 0
    # The network administrator may enrol the scoped one.
    assert client.post(URL, headers=token_for(network), json={"user": scoped.id}).status_code == 201


@pytest.mark.parametrize("body", [{"key": None}, {"user": None}, {"key": None, "user": None}])
def test_null_is_not_a_value_of_the_body(client, session, city, make_user, token_for, body):
    for user in (make_user(org=city), make_user("admin", org=city)):
        response = client.post(URL, headers=token_for(user), json=body)
        assert response.status_code in (403, 422), response.get_json()
        assert response.status_code == 422 or ("user" in body and not user.is_admin)
    assert _enrolments(session) == 0


def test_a_misspelt_field_is_refused_not_left_out(client, session, city, make_user, token_for):
    admin = make_user("admin", org=city)
    make_user(org=city, email="ona@example.org")
    response = client.post(URL, headers=token_for(admin), json={"usr": "ona@example.org"})
    assert response.status_code == 422  # not the administrator enrolled in Ona's place
    assert "“usr”" in response.get_json()["error"]["message"]
    assert _enrolments(session) == 0
