"""Sign-in through an organisation's OpenID Connect provider, against a real
provider (oidc-provider-mock: discovery, JWKS, RS256-signed ID tokens, the
authorization code flow) that these tests start on 127.0.0.1. vle is driven
with the Flask test client; the provider over HTTP, as a browser would."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import oidc_provider_mock
import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from tests.conftest import login
from vle.accounts import sso
from vle.accounts.models import Organisation, SsoProvider, User, UserSession
from vle.audit import AuditEntry

CLIENT_SECRET = "s3cret-of-the-client"

# The provider under test (not vle) signs its ID tokens through an Authlib API
# that Authlib now deprecates; the warning is raised in the provider's thread.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config.*:DeprecationWarning")


class RunningProvider:
    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()

    def person(self, sub: str, **claims: Any) -> str:
        """The provider's account `sub` with these claims (e-mail, name, …)."""
        answer = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5)
        assert answer.status_code == 204, answer.text
        return sub


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    running = RunningProvider(oidc_provider_mock.app(require_nonce=True))
    yield running
    running.stop()


class _KeysElsewhere:
    """A provider whose discovery document points at another provider's keys:
    the ID tokens it signs then fail the signature check, as a forged one would."""

    def __init__(self, app: Any, jwks_uri: Callable[[], str]) -> None:
        self.app, self.jwks_uri = app, jwks_uri

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] != "/.well-known/openid-configuration":
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["status"] = status
            return lambda data: None

        document = json.loads(b"".join(self.app(environ, keep)))
        document["jwks_uri"] = self.jwks_uri()
        body = json.dumps(document).encode()
        start_response(
            captured["status"],
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]


@pytest.fixture
def configure(session, make_org, app) -> Callable[..., SsoProvider]:
    def make(issuer: str, *domains: str, code: str = "VLN", name: str = "Vilnius") -> SsoProvider:
        org = session.scalar(select(Organisation).where(Organisation.code == code))
        org = org or make_org(code, name=name)
        configured = sso.configure(
            session, None, org.code, issuer=issuer, client_id="vle", client_secret=CLIENT_SECRET,
            domains=list(domains or ("vilnius.lt",)), secret_key=app.config["SECRET_KEY"],
        )  # fmt: skip
        session.commit()
        return configured

    return make


def start(client, email: str) -> str:
    """vle's redirect to the provider's authorization endpoint."""
    response = client.get(f"/login/sso/start?{urlencode({'email': email, 'next': '/courses'})}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def at_provider(authorization_url: str, sub: str) -> str:
    """The person signs in at the provider (its own form, posted to itself);
    returns where the provider sends the browser back: vle's callback."""
    answer = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back_at_vle(client, callback: str) -> Any:
    parts = urlsplit(callback)
    assert parts.path == "/login/sso/callback"
    return client.get(f"{parts.path}?{parts.query}")


def through(client, provider: RunningProvider, email: str, sub: str) -> Any:
    return back_at_vle(client, at_provider(start(client, email), sub))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def counts(session) -> tuple[int, int]:
    session.rollback()  # a fresh read: what the requests have committed since
    return (
        session.scalar(select(func.count()).select_from(User)),
        session.scalar(select(func.count()).select_from(UserSession)),
    )


def actions(session) -> list[str]:
    session.rollback()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_first_sign_in_creates_a_learner_in_the_organisation_and_the_second_finds_it(
    client, session, provider, configure, make_org
):
    make_org("OTHER")
    configure(provider.url, "vilnius.lt")
    provider.person("ona", email="Ona@Vilnius.LT", email_verified=True, name="Ona Petraitienė")
    authorization = start(client, "ona@vilnius.lt")
    assert authorization.startswith(f"{provider.url}/oauth2/authorize?")
    asked = dict(parse_qsl(urlsplit(authorization).query))
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
    assert asked["nonce"] and asked["state"] and "openid" in asked["scope"].split()
    assert asked["redirect_uri"] == "http://localhost/login/sso/callback"

    response = back_at_vle(client, at_provider(authorization, "ona"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/courses"
    assert "Ona Petraitienė" in client.get("/my").get_data(as_text=True)
    user = session.scalar(select(User).where(User.email == "ona@vilnius.lt"))
    assert user is not None and user.role == "learner" and user.organisation.code == "VLN"
    assert user.password_hash == ""  # no password: only the provider signs this one in
    assert actions(session)[-2:] == ["user.create", "user.sign_in_oidc"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.sign_in_oidc"))
    assert entry.actor_id == user.id and entry.target_id == user.id
    assert entry.details == {"issuer": provider.url, "created": True}

    other = client.application.test_client()
    assert through(other, provider, "ona@vilnius.lt", "ona").status_code == 302
    assert counts(session) == (1, 2)  # the same account, a second session
    assert actions(session)[-1] == "user.sign_in_oidc"
    assert actions(session).count("user.create") == 1


def test_an_existing_account_is_matched_by_its_folded_email(
    client, session, provider, configure, make_user
):
    org = configure(provider.url, "vilnius.lt").organisation
    jonas = make_user(org=org, email="jonas@vilnius.lt", name="Jonas", role="trainer")
    provider.person("jonas", email="ＪＯＮＡＳ@vilnius.lt", email_verified=True)
    assert through(client, provider, "jonas@vilnius.lt", "jonas").status_code == 302
    assert "Jonas" in client.get("/my").get_data(as_text=True)
    assert counts(session) == (1, 1)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "user.sign_in_oidc"))
    assert entry.target_id == jonas.id and entry.details["created"] is False


def test_an_unverified_email_is_refused_and_nothing_is_touched(
    client, session, provider, configure
):
    configure(provider.url, "vilnius.lt")
    provider.person("ieva", email="ieva@vilnius.lt", email_verified=False)
    response = through(client, provider, "ieva@vilnius.lt", "ieva")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "has not verified the e-mail address" in page
    assert counts(session) == (0, 0)
    assert "user.sign_in_oidc" not in actions(session)
    assert client.get("/my").status_code == 302  # not signed in


def test_an_address_the_provider_does_not_cover_is_refused(client, session, provider, configure):
    configure(provider.url, "vilnius.lt")
    # The provider answers for someone of another domain than the one typed.
    provider.person("mallory", email="mallory@kaunas.lt", email_verified=True)
    response = through(client, provider, "mallory@vilnius.lt", "mallory")
    assert response.status_code == 403
    assert "is not one that Vilnius signs in" in response.get_data(as_text=True)
    assert counts(session) == (0, 0)


def test_an_account_of_another_organisation_is_not_signed_in_by_this_provider(
    client, session, provider, configure, make_org, make_user
):
    configure(provider.url, "vilnius.lt")
    make_user(org=make_org("KAU"), email="petras@vilnius.lt")
    provider.person("petras", email="petras@vilnius.lt", email_verified=True)
    response = through(client, provider, "petras@vilnius.lt", "petras")
    assert response.status_code == 403
    assert "belongs to another organisation" in response.get_data(as_text=True)
    assert counts(session) == (1, 0)


def test_a_deactivated_account_is_refused(client, session, provider, configure, make_user):
    org = configure(provider.url, "vilnius.lt").organisation
    gone = make_user(org=org, email="gone@vilnius.lt")
    gone.active = False
    session.commit()
    provider.person("gone", email="gone@vilnius.lt", email_verified=True)
    response = through(client, provider, "gone@vilnius.lt", "gone")
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)
    assert counts(session) == (1, 0)
    assert "user.sign_in_oidc" not in actions(session)


def test_a_tampered_state_is_refused(client, session, provider, configure):
    configure(provider.url, "vilnius.lt")
    provider.person("ona", email="ona@vilnius.lt", email_verified=True)
    callback = at_provider(start(client, "ona@vilnius.lt"), "ona")
    response = back_at_vle(client, with_query(callback, state="forged-state"))
    assert response.status_code == 400
    assert "does not belong to the sign-in started here" in response.get_data(as_text=True)
    assert counts(session) == (0, 0)
    # An answer that comes back with no sign-in started in this browser.
    fresh = client.application.test_client()
    assert back_at_vle(fresh, callback).status_code == 400
    assert counts(session) == (0, 0)


def test_a_nonce_that_is_not_this_sign_ins_is_refused(client, session, provider, configure):
    configure(provider.url, "vilnius.lt")
    provider.person("ona", email="ona@vilnius.lt", email_verified=True)
    # The ID token the provider signs carries another nonce than vle asked for
    # (a replayed token would).
    authorization = with_query(start(client, "ona@vilnius.lt"), nonce="another-nonce")
    response = back_at_vle(client, at_provider(authorization, "ona"))
    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    assert counts(session) == (0, 0)


def test_an_id_token_with_a_bad_signature_is_refused(client, session, configure):
    keys = RunningProvider(oidc_provider_mock.app())
    forger = RunningProvider(
        _KeysElsewhere(oidc_provider_mock.app(require_nonce=True), lambda: f"{keys.url}/jwks")
    )
    try:
        configure(forger.url, "vilnius.lt")
        forger.person("ona", email="ona@vilnius.lt", email_verified=True)
        response = through(client, forger, "ona@vilnius.lt", "ona")
        assert response.status_code == 400
        assert "could not be verified" in response.get_data(as_text=True)
        assert counts(session) == (0, 0)
    finally:
        forger.stop()
        keys.stop()


def test_a_provider_that_cannot_be_reached_gets_a_clear_page(client, session, configure):
    down = RunningProvider(oidc_provider_mock.app())
    down.stop()  # its port is closed now
    configure(down.url, "vilnius.lt")
    response = client.get("/login/sso/start?email=ona@vilnius.lt")
    assert response.status_code == 502
    assert "cannot be reached" in response.get_data(as_text=True)
    assert counts(session) == (0, 0)


def test_the_login_page_offers_the_organisations_sign_in(client, provider, configure):
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in with your organisation" not in page  # no provider anywhere yet
    configure(provider.url, "vilnius.lt")
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/login/sso"' in page and "Sign in with your organisation" in page
    # Typed an address of a covered domain (and no password): the offer.
    response = login(client, "ona@vilnius.lt", "")
    page = response.get_data(as_text=True)
    assert "Sign in with Vilnius's account" in page
    assert "/login/sso/start?email=ona@vilnius.lt" in page
    # Everyone else keeps the password form as it was.
    page = login(client, "someone@example.org", "").get_data(as_text=True)
    assert "Sign in with Vilnius" not in page
    assert ">Email<" in page and ">Password<" in page and ">Log in<" in page


def test_the_sso_page_finds_the_organisation_by_address(client, provider, configure):
    configure(provider.url, "vilnius.lt")
    page = client.get("/login/sso?email=ona%40vilnius.lt")
    assert page.status_code == 200
    assert "Sign in with Vilnius's account" in page.get_data(as_text=True)
    unknown = client.get("/login/sso?email=ona%40example.org")
    assert unknown.status_code == 422
    assert "No organisation signs in addresses like this one" in unknown.get_data(as_text=True)
    assert client.get("/login/sso?email=not-an-address").status_code == 422
    # Starting with an address no provider covers goes back to that page.
    response = client.get("/login/sso/start?email=ona%40example.org")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/sso?")


def test_sso_from_the_command_line(runner, session, make_org, app):
    make_org("VLN", name="Vilnius")
    make_org("KAU", name="Kaunas")
    result = runner.invoke(
        ["organisations", "sso", "VLN", "--issuer", "https://login.vilnius.lt/realms/staff/",
         "--client-id", "vle", "--client-secret", CLIENT_SECRET,
         "--domain", "Vilnius.LT", "@svietimas.vilnius.lt"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert CLIENT_SECRET not in result.output
    provider = session.scalar(select(SsoProvider))
    assert provider.issuer == "https://login.vilnius.lt/realms/staff"
    assert [d.domain for d in provider.domains] == ["svietimas.vilnius.lt", "vilnius.lt"]
    # Sealed, not stored as typed; readable with the site's key only.
    assert CLIENT_SECRET not in provider.client_secret_sealed
    assert sso.unseal(provider.client_secret_sealed, app.config["SECRET_KEY"]) == CLIENT_SECRET
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.sso"))
    assert CLIENT_SECRET not in json.dumps(entry.details)

    again = runner.invoke(
        ["organisations", "sso", "VLN", "--issuer", "https://login.vilnius.lt/realms/staff",
         "--client-id", "vle", "--client-secret", CLIENT_SECRET,
         "--domain", "vilnius.lt", "--domain", "svietimas.vilnius.lt"]
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SsoProvider)) == 1

    taken = runner.invoke(
        ["organisations", "sso", "KAU", "--issuer", "https://login.kaunas.lt",
         "--client-id", "vle", "--client-secret", "x", "--domain", "vilnius.lt"]
    )  # fmt: skip
    assert taken.exit_code == 1
    assert "already signs in through the provider of VLN" in taken.output
    insecure = runner.invoke(
        ["organisations", "sso", "KAU", "--issuer", "http://login.kaunas.lt",
         "--client-id", "vle", "--client-secret", "x", "--domain", "kaunas.lt"]
    )  # fmt: skip
    assert insecure.exit_code == 1 and "https" in insecure.output
    removed = runner.invoke(["organisations", "sso-remove", "VLN"])
    assert removed.exit_code == 0 and "no longer signs in" in removed.output
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SsoProvider)) == 0
    unknown = runner.invoke(
        ["organisations", "sso", "NOPE", "--issuer", "https://login.example.org",
         "--client-id", "vle", "--client-secret", "x", "--domain", "example.org"]
    )  # fmt: skip
    assert unknown.exit_code == 1


def test_starts_are_limited_per_address(client):
    for _ in range(30):
        assert client.get("/login/sso/start?email=ona@example.org").status_code == 302
    assert client.get("/login/sso/start?email=ona@example.org").status_code == 429


def test_a_provider_that_says_no_is_a_clear_page_without_its_free_text(
    client, session, provider, configure
):
    configure(provider.url, "vilnius.lt")
    authorization = start(client, "ona@vilnius.lt")
    # The person presses Deny at the provider.
    answer = requests.post(authorization, data={"action": "deny"}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    response = back_at_vle(client, answer.headers["Location"])
    assert response.status_code == 400
    assert "did not sign you in (access_denied)" in response.get_data(as_text=True)
    start(client, "ona@vilnius.lt")
    forged = "/login/sso/callback?error=x&error_description=Call+us+at+555"
    response = client.get(forged)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "did not sign you in (x)" in page and "Call us at 555" not in page
    assert counts(session) == (0, 0)


def test_an_address_that_cannot_be_one_finds_no_provider(client, provider, configure):
    configure(provider.url, "vilnius.lt")
    for email in ("ona%00@vilnius.lt", "ona@vilnius.lt%00", f"{'o' * 300}@vilnius.lt"):
        assert client.get(f"/login/sso?email={email}").status_code == 422
        response = client.get(f"/login/sso/start?email={email}")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login/sso?")
