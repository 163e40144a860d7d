"""The network's search in a real browser, by keyboard alone, axe-core clean on
every page: a learner types a folded, syntax-laden query in the Search field and
opens the course it finds."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, tab_to


def test_a_learner_searches_the_network_by_keyboard(open_site, session, make_user, make_course):
    course = make_course(title="Szkoła w Łódź")
    course.language = "pl"
    make_course(title="Skole i Tromsø")
    session.commit()
    learner = make_user("learner", name="Ona Petraitienė")

    site = open_site()
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit("/network/")
    field = page.get_by_role("searchbox", name="Search")
    tab_to(page, field)
    page.keyboard.type('"lodz" AND *')
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.get_by_role("status")).to_have_text('0 results for “"lodz" AND *”')
    expect(page.get_by_text("No results for")).to_be_visible()

    field = page.get_by_role("searchbox", name="Search")
    tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type("szkołach lodz")
    press_to_go(site)
    expect(page.get_by_role("status")).to_have_text("1 result for “szkołach lodz”")
    expect(page.get_by_role("link", name="Skole i Tromsø")).to_have_count(0)
    tab_to(page, page.get_by_role("link", name="Szkoła w Łódź"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Szkoła w Łódź")
