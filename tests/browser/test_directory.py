"""The network's directory in a real browser, by keyboard alone, axe-core clean
on every page: a learner opens Network, filters by country and opens an
organisation; its administrator edits its profile."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, tab_to
from vle.accounts.models import Organisation


def _profile(session, org, **values):
    row = session.get(Organisation, org.id)
    for name, value in values.items():
        setattr(row, name, value)
    session.commit()


def test_a_learner_finds_an_organisation_and_its_administrator_edits_it(
    open_site, session, make_org, make_user, make_course
):
    network = make_org(code="net", name="Baltic network")
    vilnius = make_org(code="vilnius", name="Vilnius municipality", parent=network)
    tromso = make_org(code="tromso", name="Tromsø library", parent=network)
    _profile(session, vilnius, kind="municipality", country="LT", region="Vilnius County",
             descriptions={"en": "A city by the Neris."})  # fmt: skip
    _profile(session, tromso, kind="library", country="NO", region="Troms",
             descriptions={"en": "A library in the north."})  # fmt: skip
    trainer = make_user("trainer", org=tromso, name="Kari Nordmann")
    make_course(title="Reading together", trainers=[trainer])
    learner = make_user("learner", org=vilnius, name="Ona Petraitienė")
    admin = make_user("admin", org=tromso, email="admin@tromso.example.org")

    site = open_site()
    page = site.page
    log_in_by_keyboard(site, learner.email)
    network_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Network")
    tab_to(page, network_link)
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Network directory")
    expect(network_link).to_have_attribute("aria-current", "page")

    country = page.get_by_label("Country")
    tab_to(page, country)
    page.keyboard.type("Norway")
    expect(country).to_have_value("NO")
    tab_to(page, page.get_by_role("button", name="Filter"))
    press_to_go(site)
    assert "country=NO" in page.url
    expect(page.get_by_role("status")).to_have_text("1 organisation found")
    expect(page.get_by_role("heading", level=2, name="Tromsø library")).to_be_visible()
    expect(page.get_by_role("heading", name="Vilnius municipality")).to_have_count(0)

    tab_to(page, page.get_by_role("link", name="Tromsø library"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tromsø library")
    expect(page.get_by_text("A library in the north.")).to_be_visible()
    expect(page.get_by_text("Kari Nordmann")).to_be_visible()
    expect(page.get_by_role("link", name="Reading together")).to_be_visible()
    expect(page.get_by_role("link", name="Edit profile")).to_have_count(0)

    # The library's administrator edits its profile.
    site = open_site()
    page = site.page
    log_in_by_keyboard(site, admin.email)
    site.visit("/network/organisations/tromso")
    tab_to(page, page.get_by_role("link", name="Edit profile"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the profile of Tromsø library")
    tab_to(page, page.get_by_label("Contact e-mail"))
    page.keyboard.type("not an address")
    tab_to(page, page.get_by_role("button", name="Save"))
    press_to_go(site)
    expect(page.get_by_role("alert")).to_contain_text("The contact e-mail address is not valid.")

    email = page.get_by_label("Contact e-mail")
    tab_to(page, email)
    page.keyboard.press("Control+A")
    page.keyboard.type("bibliotek@tromso.example.org")
    tab_to(page, page.get_by_label("Description in Norwegian Bokmål"))
    page.keyboard.type("Et bibliotek i nord.")
    tab_to(page, page.get_by_role("button", name="Save"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tromsø library")
    expect(page.get_by_text("The profile of Tromsø library is saved.")).to_be_visible()
    expect(page.get_by_role("link", name="bibliotek@tromso.example.org")).to_be_visible()


def test_a_network_administrator_registers_a_joint_event(open_site, session, make_org, make_user):
    network = make_org(code="net", name="Baltic network")
    make_org(code="tromso", name="Tromsø library", parent=network)
    admin = make_user("admin", org=network, email="net@example.org", network=True)
    site = open_site()
    page = site.page
    log_in_by_keyboard(site, admin.email)
    site.visit("/network/events")
    site.follow(page.get_by_role("link", name="New event"))
    page.get_by_label("Title").fill("Reading week")
    page.get_by_label("Starts on").fill("2026-03-02")
    page.get_by_label("Ends on").fill("2026-03-01")
    page.get_by_label("Place").fill("Tromsø")
    page.get_by_label("Organisers").select_option("tromso")
    page.get_by_label("Counts as a joint action across borders").check()
    site.follow(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("alert")).to_contain_text("The event cannot end before it starts.")
    page.get_by_label("Ends on").fill("2026-03-04")
    site.follow(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reading week")
    expect(page.get_by_role("link", name="Tromsø library")).to_be_visible()
    site.follow(page.get_by_role("link", name="Agreements"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Cooperation agreements")
    site.follow(page.get_by_role("link", name="New agreement"))
    expect(page.get_by_label("Parties")).to_be_visible()
