"""Organisations: the tree, created, renamed and moved with its subtree, within scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login, post_form
from vle.accounts import services as accounts
from vle.accounts.models import Organisation
from vle.audit import AuditEntry
from vle.errors import Forbidden, Invalid


def _paths(session):
    session.rollback()  # a fresh snapshot after the requests
    session.expire_all()
    return {o.code: o.path for o in session.scalars(select(Organisation))}


def test_moving_an_organisation_moves_its_subtree_in_one_statement(
    app, session, world, count_queries
):
    with count_queries() as counter:
        accounts.update_organisation(
            session, world.network, world.sch, code="VLN-SCH", name="Mokykla",
            parent_code="KRA", address="10.0.0.1",
        )  # fmt: skip
        session.commit()
    # One statement rewrites the paths of the whole subtree, however large.
    path_updates = [s for s in counter.statements if "SET path" in s]
    assert len(path_updates) == 1
    paths = _paths(session)
    kra, sch, branch = (paths[c] for c in ("KRA", "VLN-SCH", "VLN-SCH-1"))
    assert sch == f"{kra}{world.sch.id}/"
    assert branch == f"{sch}{world.branch.id}/"
    assert paths["VLN-LIB"].startswith(paths["VLN"])  # the rest stays
    # The school's pupil is now in Kraków's subtree: its admin administers her, Vilnius' no longer.
    session.refresh(world.pupil)
    assert world.kra_admin.administers(world.pupil.organisation)
    session.refresh(world.pupil.organisation)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.move"))
    assert entry.details["parent"] == ["VLN", "KRA"]
    assert entry.address == "10.0.0.1"


def test_an_organisation_cannot_move_under_its_own_descendant(session, world):
    with pytest.raises(Invalid):
        accounts.update_organisation(
            session, world.network, world.vln, code="VLN", name="V", parent_code="VLN-SCH-1"
        )
    session.rollback()
    with pytest.raises(Invalid):
        accounts.update_organisation(
            session, world.network, world.sch, code="VLN-SCH", name="S", parent_code="VLN-SCH"
        )


def test_a_scoped_admin_moves_only_within_their_subtree(session, world):
    with pytest.raises(Forbidden):  # the new parent is outside their scope
        accounts.update_organisation(
            session, world.school_admin, world.branch, code="VLN-SCH-1", name="B",
            parent_code="KRA",
        )  # fmt: skip
    session.rollback()
    with pytest.raises(Forbidden):  # top level: network administrators only
        accounts.update_organisation(
            session, world.school_admin, world.branch, code="VLN-SCH-1", name="B", parent_code=None
        )
    session.rollback()
    with pytest.raises(Forbidden):
        accounts.add_organisation(session, world.school_admin, code="TOP", name="Top")


def test_network_admin_creates_and_renames_in_the_web(client, session, world):
    login(client, "net@example.org")
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "Kraków" in page and "Mokyklos skyrius" in page
    response = post_form(
        client, "/admin/organisations/new",
        {"code": "VLN-CARE", "name": "Globos namai", "kind": "care home", "parent": "VLN"},
        page="/admin/organisations/new",
    )  # fmt: skip
    assert response.status_code == 302
    care = session.scalar(select(Organisation).where(Organisation.code == "VLN-CARE"))
    assert care.path == f"{world.vln.path}{care.id}/" and care.kind == "care home"
    response = post_form(
        client, f"/admin/organisations/{care.id}",
        {"code": "VLN-GLOB", "name": "Globos namai „Ąžuolas“", "kind": "care home", "parent": "VLN-LIB"},
        page=f"/admin/organisations/{care.id}",
    )  # fmt: skip
    assert response.status_code == 302
    session.rollback()  # a fresh snapshot after the requests
    session.expire_all()
    care = session.get(Organisation, care.id)
    assert care.code == "VLN-GLOB" and care.name == "Globos namai „Ąžuolas“"
    assert care.path == f"{world.lib.path}{care.id}/"
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["organisation.create", "organisation.move"]


def test_bad_organisation_input_gets_a_clear_message_and_changes_nothing(client, session, world):
    login(client, "net@example.org")
    response = post_form(
        client, "/admin/organisations/new", {"code": "VLN-LIB", "name": "Again", "parent": "VLN"},
        page="/admin/organisations/new",
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "already taken" in page and 'role="alert"' in page
    response = post_form(
        client, "/admin/organisations/new", {"code": "", "name": "", "parent": "VLN"},
        page="/admin/organisations/new",
    )  # fmt: skip
    assert response.status_code == 422
    # The parent list leaves out the organisation itself and its descendants.
    page = client.get(f"/admin/organisations/{world.sch.id}").get_data(as_text=True)
    assert 'value="VLN-SCH-1"' not in page and 'value="KRA"' in page
    response = post_form(
        client, f"/admin/organisations/{world.sch.id}",
        {"code": "VLN-SCH", "name": "Mokykla", "parent": "VLN-SCH-1"},
        page=f"/admin/organisations/{world.sch.id}",
    )  # fmt: skip
    assert response.status_code == 422
    assert _paths(session)["VLN-SCH"] == world.sch.path
    assert session.scalar(select(AuditEntry.id)) is None


def test_scoped_admin_sees_and_edits_only_their_subtree(client, session, world):
    login(client, "sch-admin@example.org")
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert "Mokyklos skyrius" in page
    assert "Kraków" not in page and "Biblioteka" not in page
    for org in (world.kra, world.lib, world.vln):  # another subtree, a sibling, the parent
        assert client.get(f"/admin/organisations/{org.id}").status_code == 404
        response = post_form(
            client, f"/admin/organisations/{org.id}", {"code": "X", "name": "X", "parent": ""},
            page="/admin/organisations",
        )  # fmt: skip
        assert response.status_code == 404
    assert client.get("/admin/organisations/99999").status_code == 404
    # Their own organisation can be renamed, and a new one created under it.
    page = client.get(f"/admin/organisations/{world.sch.id}").get_data(as_text=True)
    assert "None (a top-level organisation)" not in page
    response = post_form(
        client, "/admin/organisations/new", {"code": "VLN-SCH-2", "name": "Antras", "parent": "VLN-SCH"},
        page="/admin/organisations/new",
    )  # fmt: skip
    assert response.status_code == 302
    # ... but not under an organisation outside their scope (not even by forging the form).
    response = post_form(
        client, "/admin/organisations/new", {"code": "EVIL", "name": "Evil", "parent": "KRA"},
        page="/admin/organisations/new",
    )  # fmt: skip
    assert response.status_code == 422
    assert session.scalar(select(Organisation).where(Organisation.code == "EVIL")) is None


def test_administration_is_for_administrators(client, world, make_user):
    assert client.get("/admin/").status_code == 302  # to the login page
    make_user("trainer", org=world.vln, email="trainer@example.org")
    login(client, "trainer@example.org")
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/organisations").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert "Administration" not in client.get("/my").get_data(as_text=True)
    other = client.application.test_client()
    login(other, "net@example.org")
    assert "Administration" in other.get("/my").get_data(as_text=True)
    index = other.get("/admin/")
    assert index.status_code == 200
    # Administrators reach their learners' quiz answers from here.
    assert 'href="/trainer/grading"' in index.get_data(as_text=True)
