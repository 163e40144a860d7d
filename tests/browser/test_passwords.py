"""Passwords in a real browser, by label and role, with axe-core on every page:
Forgotten your password? → the mailed link (a real SMTP server) → Set password
→ Log in; an administrator's invitation; the must-change detour."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.test_passwords import NEW, link_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(site, email: str, password: str) -> None:
    site.visit("/login")
    site.page.get_by_label("Email").fill(email)
    site.page.get_by_label("Password", exact=True).fill(password)
    site.follow(site.page.get_by_role("button", name="Log in"))


def test_forgotten_password_to_a_new_one_and_back_in(site, make_user, smtp_server):
    make_user(email="ona@example.org", name="Ona Žemaitė")
    site.visit("/login")
    site.follow(site.page.get_by_role("link", name="Forgotten your password?"))
    site.page.get_by_label("Email").fill("ona@example.org")
    site.follow(site.page.get_by_role("button", name="Send reset link"))
    expect(site.page.get_by_role("heading", name="Check your mail")).to_be_visible()

    path = link_in(smtp_server.messages[0])
    site.visit(path)
    site.page.get_by_label("New password", exact=True).fill("short")
    site.page.get_by_label("Repeat new password").fill("short")
    site.follow(site.page.get_by_role("button", name="Set password"))
    expect(site.page.get_by_text("A password needs at least 10 characters.")).to_be_visible()
    expect(site.page.get_by_label("New password", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    site.page.get_by_label("New password", exact=True).fill(NEW)
    site.page.get_by_label("Repeat new password").fill(NEW)
    site.follow(site.page.get_by_role("button", name="Set password"))
    expect(site.page.get_by_text("Your password is set.")).to_be_visible()
    _log_in(site, "ona@example.org", NEW)
    expect(site.page.get_by_role("heading", name="My learning")).to_be_visible()
    # The link again: a clear page.
    site.visit(path)
    expect(site.page.get_by_role("heading", name="This link does not work")).to_be_visible()


def test_the_forgotten_password_page_in_lithuanian(open_site):
    site = open_site("lt-LT")
    site.visit("/password/forgotten")
    assert site.page.locator("html").get_attribute("lang") == "lt"


def test_an_invitation_from_the_admin_form(open_site, make_org, make_user, smtp_server):
    make_org("VLN", name="Vilnius")
    make_user("admin", email="admin@example.org", network=True)
    admin = open_site()
    _log_in(admin, "admin@example.org", PASSWORD)
    admin.visit("/admin/users/new")
    admin.page.get_by_label("Email").fill("jonas@example.org")
    admin.page.get_by_label("Full name").fill("Jonas Ąžuolas")
    expect(admin.page.get_by_label("Send an invitation")).to_be_checked()
    admin.follow(admin.page.get_by_role("button", name="Create account"))
    expect(admin.page.get_by_role("button", name="Send the invitation again")).to_be_visible()

    person = open_site()
    person.visit(link_in(smtp_server.messages[0]))
    expect(person.page.get_by_role("heading", name="Welcome: choose your password")).to_be_visible()
    person.page.get_by_label("New password", exact=True).fill(NEW)
    person.page.get_by_label("Repeat new password").fill(NEW)
    person.follow(person.page.get_by_role("button", name="Set password"))
    _log_in(person, "jonas@example.org", NEW)
    expect(person.page.get_by_role("heading", name="My learning")).to_be_visible()


def test_must_change_leads_to_change_password_first(site, session, make_user):
    user = make_user(email="ona@example.org")
    user.must_change_password = True
    session.commit()
    _log_in(site, "ona@example.org", PASSWORD)
    expect(site.page.get_by_role("heading", name="Change password")).to_be_visible()
    site.page.get_by_label("Current password").fill(PASSWORD)
    site.page.get_by_label("New password", exact=True).fill(NEW)
    site.page.get_by_label("Repeat new password").fill(NEW)
    site.follow(site.page.get_by_role("button", name="Change password"))
    expect(site.page.get_by_role("heading", name="My learning")).to_be_visible()
    site.follow(site.page.get_by_role("link", name="Change password"))
    expect(site.page.get_by_label("Current password")).to_have_attribute(
        "autocomplete", "current-password"
    )
