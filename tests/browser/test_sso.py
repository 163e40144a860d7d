"""Signing in through the organisation's own provider in a real browser: the
offer on Log in, the link to the provider (no form posts there: the CSP allows
forms to post to vle only) and the way back, with axe-core on vle's pages.

The provider is real (tests/accounts/test_oidc.py starts it on 127.0.0.1); the
browser signs in on its page, which is not vle's for axe to check."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.test_oidc import CLIENT_SECRET, RunningProvider
from vle.accounts import sso

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:get_jwt_config.*:DeprecationWarning"),
]


def test_a_person_signs_in_with_the_organisations_account(site, session, make_org, app):
    import oidc_provider_mock

    provider = RunningProvider(oidc_provider_mock.app(require_nonce=True))
    try:
        make_org("VLN", name="Vilnius")
        sso.configure(
            session, None, "VLN", issuer=provider.url, client_id="vle",
            client_secret=CLIENT_SECRET, domains=["vilnius.lt"],
            secret_key=app.config["SECRET_KEY"],
        )  # fmt: skip
        session.commit()
        provider.person("ona", email="ona@vilnius.lt", email_verified=True, name="Ona Petraitienė")

        site.visit("/login")
        site.page.get_by_label("Email").fill("ona@vilnius.lt")
        site.follow(site.page.get_by_role("button", name="Log in"))
        offer = site.page.get_by_role("link", name="Sign in with Vilnius's account")
        expect(offer).to_be_visible()
        site.elsewhere(offer.click)  # at the provider: its own page and form
        assert site.page.url.startswith(f"{provider.url}/oauth2/authorize?")
        site.page.locator("input[name=sub]").fill("ona")
        site.navigate(site.page.get_by_role("button", name="Authorize").click)
        expect(site.page.get_by_text("Ona Petraitienė")).to_be_visible()
        assert site.page.url.endswith("/my")
    finally:
        provider.stop()


def test_the_organisation_sign_in_page_and_a_refusal_are_clear(site):
    site.visit("/login/sso")
    site.page.get_by_label("Email").fill("ona@example.org")
    site.follow(site.page.get_by_role("button", name="Continue"))
    expect(
        site.page.get_by_text("No organisation signs in addresses like this one")
    ).to_be_visible()
    expect(site.page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    # An answer that comes back with no sign-in started in this browser.
    site.visit("/login/sso/callback?code=x&state=y")
    expect(site.page.get_by_role("alert")).to_contain_text("was not started in this browser")
