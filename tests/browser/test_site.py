"""The site as a newcomer meets it: the front page, and signing in with a wrong
password, by keyboard; axe checks every page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Site
from tests.browser.test_quiz import focused, press_to_go, tab_to


def test_a_newcomer_reads_the_front_page_and_mistypes_the_password(
    site: Site, make_course, make_user
):
    make_course(title="Safe work")
    make_user(email="ona@example.org")
    page = site.page
    site.visit("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to vle")
    expect(
        page.get_by_text("Ask your organisation's administrator for an invitation.")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Safe work")).to_be_visible()
    main = page.locator("main")
    tab_to(page, main.get_by_role("link", name="Log in"))
    press_to_go(site)
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type("ona@example.org")
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type("not the password")
    press_to_go(site)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Check your email address and your password")
    # Neither field alone is marked wrong; the summary leads to both.
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    alert.get_by_role("link", name="Check your email address").click()
    site.audit()  # the same page, at its #email
    assert focused(page.get_by_label("Email"))
