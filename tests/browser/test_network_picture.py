"""The network picture and the indicator panel in a real browser, by keyboard
alone, axe-core clean on every page: a coordinator (a network administrator)
opens the picture, sorts its table of pairs, opens the indicators and
freezes a snapshot."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, tab_to
from vle.accounts.models import Organisation
from vle.community.models import Agreement


def test_a_coordinator_opens_the_picture_and_the_indicators_by_keyboard(
    open_site, session, make_org, make_user
):
    network = make_org(code="net", name="Baltic network")
    vilnius = make_org(code="vilnius", name="Vilnius municipality", parent=network)
    tromso = make_org(code="tromso", name="Tromsø library", parent=network)
    for org, country in ((vilnius, "LT"), (tromso, "NO")):
        session.get(Organisation, org.id).country = country
    session.add(Agreement(title="Reading together", signed_on=date(2026, 2, 3),
                          parties=[session.get(Organisation, vilnius.id),
                                   session.get(Organisation, tromso.id)]))  # fmt: skip
    session.commit()
    coordinator = make_user("admin", org=network, network=True, email="coordinator@example.org")

    site = open_site()
    page = site.page
    log_in_by_keyboard(site, coordinator.email)
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Network"))
    press_to_go(site)
    tab_to(page, page.get_by_role("link", name="Network picture"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Network picture")
    picture = page.get_by_role(
        "img", name="Cooperation between the network's partner organisations"
    )
    expect(picture).to_be_visible()
    table = page.locator("#pairs-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr").first).to_contain_text("Agreement (since 3 February 2026)")

    tab_to(page, page.get_by_role("link", name="Since"))
    press_to_go(site)
    assert "sort=since" in page.url
    expect(page.get_by_role("columnheader", name="Since")).to_have_attribute(
        "aria-sort", "ascending"
    )

    tab_to(page, page.get_by_role("link", name="Indicators", exact=True))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Indicators")
    expect(page.locator('tr[data-code="RCO87"] .figure')).to_have_text("2")
    tab_to(page, page.get_by_role("button", name="Freeze snapshot"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Snapshot at")
    expect(page.locator('tr[data-code="RCO87"] .figure')).to_have_text("2")
