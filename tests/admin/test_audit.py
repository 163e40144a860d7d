"""The audit log: who did what to which target, when, from which address; scoped and filtered."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.conftest import csrf_token, login, post_form
from vle import create_app, db
from vle.audit import AuditEntry, audit


def _entry(session, actor, action, org, label, at=None):
    entry = audit(
        session,
        actor,
        action,
        "user",
        1,
        "203.0.113.9",
        organisation_id=org.id if org else None,
        label=label,
    )
    if at:
        entry.at = at
    session.commit()
    return entry


def test_admin_actions_are_logged_with_actor_address_and_target(client, session, world):
    login(client, "net@example.org")
    post_form(client, f"/admin/users/{world.pupil.id}/deactivate", page="/admin/users")
    entry = session.scalar(select(AuditEntry))
    assert (entry.action, entry.target_type, entry.target_id) == (
        "user.deactivate",
        "user",
        world.pupil.id,
    )
    assert entry.actor_id == world.network.id and entry.address == "127.0.0.1"
    assert entry.organisation_id == world.branch.id and entry.target_label == "ona@example.org"
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Account deactivated" in page and "ona@example.org" in page and "127.0.0.1" in page
    assert "<code>user.deactivate</code>" not in page  # the action in words, not its code


def test_the_address_behind_a_trusted_proxy_is_the_clients(_database, session, world):
    proxied = create_app({**_database, "PROXY_COUNT": 1}, env="test")  # same database
    client = proxied.test_client()
    login(client, "net@example.org")
    client.post(
        f"/admin/users/{world.pupil.id}/deactivate",
        data={"csrf_token": csrf_token(client, "/admin/users")},
        headers={"X-Forwarded-For": "198.51.100.23"},
    )
    assert session.scalar(select(AuditEntry.address)) == "198.51.100.23"
    db.get_database(proxied).engine.dispose()


def test_scoped_admins_read_only_entries_about_their_subtree(client, session, world):
    _entry(session, world.network, "user.update", world.branch, "in-branch@example.org")
    _entry(session, world.network, "user.update", world.kra_lib, "in-krakow@example.org")
    _entry(session, world.network, "user.update", world.lib, "in-library@example.org")
    _entry(session, None, "report.export", None, "whole network")
    login(client, "sch-admin@example.org")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "in-branch@example.org" in page
    assert "in-krakow@example.org" not in page and "in-library@example.org" not in page
    assert "whole network" not in page
    other = client.application.test_client()
    login(other, "net@example.org")
    page = other.get("/admin/audit").get_data(as_text=True)
    for label in ("in-branch", "in-krakow", "in-library", "whole network"):
        assert label in page
    assert "Command line" in page


def test_filters_by_action_who_and_period(client, session, world):
    _entry(
        session,
        world.school_admin,
        "user.update",
        world.branch,
        "old@example.org",
        datetime(2024, 1, 10, 12, tzinfo=UTC),
    )
    _entry(
        session,
        world.network,
        "user.erase",
        world.branch,
        "mid@example.org",
        datetime(2024, 3, 5, 23, 30, tzinfo=UTC),
    )
    _entry(
        session,
        world.network,
        "user.update",
        world.branch,
        "new@example.org",
        datetime(2024, 6, 1, tzinfo=UTC),
    )
    login(client, "net@example.org")
    page = client.get("/admin/audit?action=user.erase").get_data(as_text=True)
    assert "mid@example.org" in page and "old@example.org" not in page
    page = client.get("/admin/audit?who=school").get_data(as_text=True)  # the actor's name
    assert "old@example.org" in page and "mid@example.org" not in page
    page = client.get("/admin/audit?since=2024-03-05&until=2024-03-05").get_data(as_text=True)
    assert (
        "mid@example.org" in page
        and "old@example.org" not in page
        and "new@example.org" not in page
    )


def test_bad_filters_get_a_clear_message(client, world):
    login(client, "net@example.org")
    response = client.get("/admin/audit?since=2024-05-01&until=2024-04-01")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "must not be before the start date" in page
    response = client.get("/admin/audit?since=yesterday")
    assert response.status_code == 422 and "Not a valid date" in response.get_data(as_text=True)
    response = client.get("/admin/audit?action=user.fly")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
