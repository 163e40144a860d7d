"""Users: created, edited, deactivated (never deleted) by administrators of their subtree."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from vle.accounts import services as accounts
from vle.accounts.models import User
from vle.audit import AuditEntry
from vle.errors import Forbidden


def _fresh(session, user):
    session.rollback()  # a fresh snapshot after the requests
    session.expire_all()
    return session.get(User, user.id)


def test_admin_creates_and_edits_a_user(client, session, world):
    login(client, "sch-admin@example.org")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'for="email"' in page and 'for="organisation"' in page
    assert "Whole network in scope" not in page  # scoped admins cannot grant it
    assert 'value="KRA"' not in page  # organisations outside the scope are not offered
    response = post_form(
        client, "/admin/users/new",
        {"email": "Jonas@Example.org", "name": "Jonas Ąžuolas", "role": "trainer",
         "organisation": "VLN-SCH-1", "language": "lt", "password": "a long password"},
        page="/admin/users/new",
    )  # fmt: skip
    assert response.status_code == 302
    jonas = accounts.user_by_email(session, "jonas@example.org")
    assert jonas.name == "Jonas Ąžuolas" and jonas.role == "trainer" and jonas.locale == "lt"
    assert jonas.organisation.code == "VLN-SCH-1"
    response = post_form(
        client, f"/admin/users/{jonas.id}",
        {"email": "jonas@example.org", "name": "Jonas Ąžuolaitis", "role": "learner",
         "organisation": "VLN-SCH", "language": "", "password": ""},
        page=f"/admin/users/{jonas.id}",
    )  # fmt: skip
    assert response.status_code == 302
    jonas = _fresh(session, jonas)
    assert (jonas.name, jonas.role, jonas.organisation.code) == (
        "Jonas Ąžuolaitis",
        "learner",
        "VLN-SCH",
    )
    assert jonas.password_hash  # unchanged, not emptied
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["user.create", "user.update"]
    assert entries[1].details["role"] == ["trainer", "learner"]
    assert set(entries[1].details["changed"]) == {"name", "role", "organisation", "language"}
    assert entries[1].actor_id == world.school_admin.id and entries[1].address == "127.0.0.1"


def test_deactivated_users_cannot_sign_in_and_are_kept(client, session, world):
    login(client, "sch-admin@example.org")
    response = post_form(
        client, f"/admin/users/{world.pupil.id}/deactivate", page=f"/admin/users/{world.pupil.id}"
    )
    assert response.status_code == 302
    assert not _fresh(session, world.pupil).active
    other = client.application.test_client()
    response = login(other, "ona@example.org")
    assert "Your account has been deactivated" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(User.id)).where(User.email == "ona@example.org")) == 1
    page = client.get(f"/admin/users/{world.pupil.id}").get_data(as_text=True)
    assert "Deactivated" in page and "Reactivate" in page
    post_form(
        client, f"/admin/users/{world.pupil.id}/reactivate", page=f"/admin/users/{world.pupil.id}"
    )
    assert _fresh(session, world.pupil).active
    assert login(other, "ona@example.org").status_code == 302


def test_an_admin_cannot_lock_themselves_out(session, world):
    with pytest.raises(Forbidden):
        accounts.set_active(session, world.school_admin, world.school_admin, False)
    with pytest.raises(Forbidden):
        accounts.update_user(
            session, world.school_admin, world.school_admin, email="sch-admin@example.org",
            name="S", role="learner", organisation_code="VLN-SCH",
        )  # fmt: skip
    session.rollback()
    with pytest.raises(Forbidden):
        accounts.erase_user(session, world.network, world.network)


def test_only_network_admins_grant_network_scope_or_change_network_admins(
    session, world, make_user
):
    with pytest.raises(Forbidden):
        accounts.add_user(
            session, world.school_admin, email="x@example.org", name="X", role="admin",
            organisation_code="VLN-SCH", network=True,
        )  # fmt: skip
    session.rollback()
    other_network = make_user("admin", org=world.sch, email="net2@example.org", network=True)
    assert not world.school_admin.manages(other_network)
    with pytest.raises(Forbidden):
        accounts.set_active(session, world.school_admin, other_network, False)
    session.rollback()
    user = accounts.add_user(
        session, world.network, email="net3@example.org", name="N", role="admin",
        organisation_code="KRA", network=True,
    )  # fmt: skip
    assert user.network


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/admin/users/{id}"),
        ("post", "/admin/users/{id}"),
        ("post", "/admin/users/{id}/deactivate"),
        ("post", "/admin/users/{id}/reactivate"),
        ("get", "/admin/users/{id}/erase"),
        ("post", "/admin/users/{id}/erase"),
        ("post", "/admin/users/{id}/data"),
    ],
)
def test_users_of_another_subtree_do_not_exist_for_a_scoped_admin(
    client, session, world, method, path
):
    login(client, "sch-admin@example.org")
    token = csrf_token(client, "/admin/users")
    for victim in (world.krakow, world.librarian, world.network):  # other partner, sibling, above
        url = path.format(id=victim.id)
        data = {"csrf_token": token, "email": "x@example.org", "name": "X", "role": "learner",
                "organisation": "VLN-SCH", "confirm": "y"}  # fmt: skip
        response = client.get(url) if method == "get" else client.post(url, data=data)
        assert response.status_code == 404, (victim, url)
    assert client.get(path.format(id=99999)).status_code in (404, 405)
    session.rollback()
    assert (
        session.get(User, world.krakow.id).active
        and session.get(User, world.krakow.id).name == "Zofia Łącka"
    )
    assert session.scalar(select(AuditEntry.id)) is None


def test_a_network_admin_inside_the_subtree_is_visible_but_not_changeable(
    client, session, world, make_user
):
    boss = make_user("admin", org=world.sch, email="boss@example.org", network=True, name="Boss")
    login(client, "sch-admin@example.org")
    page = client.get(f"/admin/users/{boss.id}")
    assert page.status_code == 200
    assert "Only network administrators change" in page.get_data(as_text=True)
    response = post_form(client, f"/admin/users/{boss.id}/deactivate", page="/admin/users")
    assert response.status_code == 403
    response = post_form(
        client, f"/admin/users/{boss.id}",
        {"email": "boss@example.org", "name": "Renamed", "role": "learner", "organisation": "VLN-SCH"},
        page="/admin/users",
    )  # fmt: skip
    assert response.status_code == 403
    assert _fresh(session, boss).active and _fresh(session, boss).name == "Boss"


def test_moving_a_user_outside_the_scope_is_refused(client, session, world):
    login(client, "sch-admin@example.org")
    response = post_form(
        client, f"/admin/users/{world.pupil.id}",
        {"email": "ona@example.org", "name": "Ona", "role": "learner", "organisation": "KRA"},
        page=f"/admin/users/{world.pupil.id}",
    )  # fmt: skip
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert _fresh(session, world.pupil).organisation.code == "VLN-SCH-1"


def test_bad_user_input_gets_a_clear_message(client, session, world):
    login(client, "net@example.org")
    cases = [
        ({"email": "not-an-email", "name": "X", "role": "learner", "organisation": "VLN"}, "email"),
        (
            {"email": "lib@example.org", "name": "X", "role": "learner", "organisation": "VLN"},
            "already exists",
        ),
        (
            {"email": "n@example.org", "name": "", "role": "learner", "organisation": "VLN"},
            "required",
        ),
        (
            {"email": "n@example.org", "name": "X", "role": "boss", "organisation": "VLN"},
            "Not a valid choice",
        ),
        (
            {"email": "n@example.org", "name": "X", "role": "learner", "organisation": "NOPE"},
            "Not a valid choice",
        ),
        (
            {
                "email": "n@example.org",
                "name": "X",
                "role": "learner",
                "organisation": "VLN",
                "password": "short",
            },
            "10",
        ),
    ]
    before = session.scalar(select(func.count(User.id)))
    for data, message in cases:
        response = post_form(client, "/admin/users/new", data, page="/admin/users/new")
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        assert message in page and 'role="alert"' in page, (data, message)
    assert session.scalar(select(func.count(User.id))) == before


def test_the_user_list_is_scoped_filtered_and_a_fixed_number_of_queries(
    client, world, make_user, count_queries
):
    login(client, "sch-admin@example.org")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Ona Žemaitė" in page and "School Admin" in page
    assert "Zofia Łącka" not in page and "Liudas Biblis" not in page and "Net Admin" not in page
    page = client.get("/admin/users?q=%C5%BEEMAIT").get_data(as_text=True)  # "žemait", any case
    assert "Ona Žemaitė" in page and "sch-admin@example.org" not in page
    page = client.get("/admin/users?q=%25").get_data(as_text=True)  # % is searched literally
    assert "Ona Žemaitė" not in page
    page = client.get("/admin/users?organisation=KRA").get_data(as_text=True)
    assert "Not a valid choice" in page and "Zofia" not in page
    with count_queries() as few:
        client.get("/admin/users")
    for n in range(30):
        make_user(org=world.branch, email=f"many{n}@example.org")
    with count_queries() as many:
        page = client.get("/admin/users").get_data(as_text=True)
    assert "Next page" in page
    assert many.count == few.count
