"""The organisation's sign-in provider on the administrator's page
(/admin/organisations/<id>/sso): who may see and set it, and that the client
secret never comes back."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import login, post_form
from vle.accounts import sso
from vle.accounts.models import SsoProvider
from vle.audit import AuditEntry

SECRET = "the-client-secret-42"


def _set(client, org_id: int, **fields: str):
    data = {
        "issuer": "https://login.vilnius.lt/realms/staff",
        "client_id": "vle",
        "client_secret": SECRET,
        "domains": "vilnius.lt\nmokykla.lt",
    }
    data.update(fields)
    path = f"/admin/organisations/{org_id}/sso"
    return post_form(client, path, data, page=path)


def test_who_may_see_the_page(client, world):
    path = f"/admin/organisations/{world.sch.id}/sso"
    assert client.get(path).status_code == 302  # to the login page
    login(client, "ona@example.org")
    assert client.get(path).status_code == 403  # a learner
    login(client, "kra-admin@example.org")
    assert client.get(path).status_code == 404  # outside their scope
    login(client, "sch-admin@example.org")
    assert client.get(path).status_code == 200  # their own organisation
    login(client, "net@example.org")
    assert client.get(path).status_code == 200


def test_an_organisation_admin_sets_the_provider_and_sees_its_domains(client, session, world, app):
    login(client, "sch-admin@example.org")
    edit = client.get(f"/admin/organisations/{world.sch.id}").get_data(as_text=True)
    assert f'href="/admin/organisations/{world.sch.id}/sso"' in edit
    page = client.get(f"/admin/organisations/{world.sch.id}/sso").get_data(as_text=True)
    assert "sign in with their email and password" in page
    assert "http://localhost/login/sso/callback" in page

    response = _set(client, world.sch.id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<li>mokykla.lt</li>" in page and "<li>vilnius.lt</li>" in page
    assert "Set (never shown)" in page
    assert SECRET not in page
    session.rollback()
    provider = session.scalar(select(SsoProvider))
    assert provider.organisation_id == world.sch.id
    assert sso.unseal(provider.client_secret_sealed, app.config["SECRET_KEY"]) == SECRET
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.sso"))
    assert entry.actor_id == world.school_admin.id and SECRET not in str(entry.details)

    # An empty secret keeps the stored one; the domains are replaced.
    assert _set(client, world.sch.id, client_secret="", domains="mokykla.lt").status_code == 302
    session.rollback()
    session.expire_all()
    provider = session.scalar(select(SsoProvider))
    assert [d.domain for d in provider.domains] == ["mokykla.lt"]
    assert sso.unseal(provider.client_secret_sealed, app.config["SECRET_KEY"]) == SECRET


def test_bad_values_are_refused_with_the_reason(client, session, world):
    login(client, "net@example.org")
    response = _set(client, world.kra.id, domains="krakow.pl")
    assert response.status_code == 302
    taken = _set(client, world.vln.id, domains="vilnius.lt\nkrakow.pl")
    assert taken.status_code == 422
    assert "already signs in through the provider of KRA" in taken.get_data(as_text=True)
    insecure = _set(client, world.vln.id, issuer="http://login.vilnius.lt")
    assert insecure.status_code == 422 and "https" in insecure.get_data(as_text=True)
    no_secret = _set(client, world.vln.id, client_secret="")
    assert no_secret.status_code == 422
    assert "needs its client secret" in no_secret.get_data(as_text=True)
    bad_domain = _set(client, world.vln.id, domains="not a domain!")
    assert bad_domain.status_code == 422
    session.rollback()
    assert (
        session.scalar(select(SsoProvider).where(SsoProvider.organisation_id == world.vln.id))
        is None
    )


def test_an_admin_stops_the_sign_in_through_the_provider(client, session, world):
    login(client, "sch-admin@example.org")
    assert _set(client, world.sch.id).status_code == 302
    path = f"/admin/organisations/{world.sch.id}/sso"
    response = post_form(client, f"{path}/remove", page=path)
    assert response.status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "now sign in with their passwords" in page
    assert "sign in with their email and password" in page
    session.rollback()
    assert session.scalar(select(SsoProvider)) is None
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-1] == "organisation.sso_remove"
    login(client, "kra-admin@example.org")
    assert post_form(client, f"{path}/remove", page="/admin/").status_code == 404
