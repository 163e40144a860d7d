"""Assigned training in a real browser (issue 15): an administrator assigns a course to
an organisation subtree; a learner of it, invited without a password, gets the mail,
chooses a password through its link, finds the course on My learning with its due date
and completes it, partly in Lithuanian; the report then shows her completed and the
others of the subtree not started. axe-core checks every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_learner import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW = "a long passphrase of her own"


def _mails_to(smtp_server, address: str) -> list:
    """The mails `address` has received (the first mail must have come)."""
    return [m for m in smtp_server.wait_for(1, timeout=10) if address in str(m["To"])]


def _link(message, base_url: str) -> str:
    """The invitation link's path; the mail's link leads to the server under test."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    found = re.search(re.escape(base_url) + r"(/password/invitation/[A-Za-z0-9_-]+)", text)
    assert found, f"no invitation link to {base_url} in:\n{text}"
    assert found.group(1) in html
    return found.group(1)


@pytest.fixture
def subtree(app, live_server, make_org, make_user, make_course):
    """VLN ⊃ VLN-SCH ⊃ VLN-SCH-1, a library beside the school and Kraków apart."""
    app.config["BASE_URL"] = live_server  # the mails' links lead to this server
    vln = make_org("VLN", name="Vilniaus savivaldybė")
    school = make_org("VLN-SCH", parent=vln, name="Mokykla")
    branch = make_org("VLN-SCH-1", parent=school, name="Mokyklos skyrius")
    library = make_org("VLN-LIB", parent=vln, name="Biblioteka")
    krakow = make_org("KRA", name="Kraków")
    make_user("admin", org=vln, email="admin@example.org", name="Asta Admin", network=True)
    make_user(org=school, email="jonas@example.org", name="Jonas Jonaitis")
    make_user(org=branch, email="petras@example.org", name="Petras Petraitis")
    make_user(org=library, email="lina@example.org", name="Lina Bibliotekė")
    make_user(org=krakow, email="zofia@example.org", name="Zofia Łącka")
    make_course(slug="data-protection", title="Data protection basics", lessons=2)
    return branch


def test_assigned_to_a_subtree_invited_learner_completes_report_shows_it(
    open_site, subtree, smtp_server, live_server
):
    admin = open_site()
    page = admin.page
    log_in(admin, "admin@example.org", PASSWORD)

    # A new learner of the school's branch, invited: she has no password yet.
    admin.visit("/admin/users/new")
    page.get_by_label("Email").fill("ona@example.org")
    page.get_by_label("Full name").fill("Ona Žemaitė")
    page.get_by_label("Organisation").select_option("VLN-SCH-1")
    expect(page.get_by_label("Send an invitation")).to_be_checked()
    admin.follow(page.get_by_role("button", name="Create account"))
    expect(page.get_by_role("button", name="Send the invitation again")).to_be_visible()

    # The course, to everyone of the school's subtree who is a learner, due on a day.
    admin.visit("/courses/data-protection")
    admin.follow(page.get_by_role("link", name="Assign", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Assign Data protection basics")
    page.get_by_label("Organisation").select_option("VLN-SCH")
    page.get_by_label("Role").select_option(label="Learners")
    page.get_by_label("Due date").fill("2030-06-30")
    admin.follow(page.get_by_role("button", name="Check"))
    # The dry run: Jonas, Petras and Ona; not the library's Lina nor Kraków's Zofia.
    expect(page.get_by_role("status").filter(has_text="3 people of VLN-SCH")).to_have_count(1)
    admin.follow(page.get_by_role("button", name="Assign", exact=True))
    expect(page.get_by_text("The course is assigned to Mokykla")).to_be_visible()

    # Ona's mails: the invitation, and the course she is assigned.
    mails = _mails_to(smtp_server, "ona@example.org")
    texts = [m.get_body(("plain",)).get_content() for m in mails]
    invitations = [
        m for m, text in zip(mails, texts, strict=True) if "/password/invitation/" in text
    ]
    assert len(invitations) == 1
    assert any("Data protection basics" in text for text in texts)
    path = _link(invitations[0], live_server)

    ona = open_site()
    ona.visit(path)
    expect(ona.page.get_by_role("heading", name="Welcome: choose your password")).to_be_visible()
    ona.page.get_by_label("New password", exact=True).fill(NEW)
    ona.page.get_by_label("Repeat new password").fill(NEW)
    ona.follow(ona.page.get_by_role("button", name="Set password"))
    expect(ona.page.get_by_text("Your password is set.")).to_be_visible()
    log_in(ona, "ona@example.org", NEW)
    expect(ona.page.get_by_role("heading", level=1)).to_have_text("My learning")
    row = ona.page.get_by_role("row").filter(
        has=ona.page.get_by_role("link", name="Data protection basics", exact=True)
    )
    expect(row).to_contain_text("Not started")
    expect(row).to_contain_text(re.compile(r"Jun\w* 30,? 2030|30 Jun\w* 2030"))

    # She goes on in Lithuanian, by the language switcher.
    ona.page.get_by_label("Language", exact=True).select_option("lt")
    ona.follow(ona.page.get_by_role("button", name="Change"))
    expect(ona.page.locator("html")).to_have_attribute("lang", "lt")
    expect(ona.page.get_by_role("heading", level=1)).to_have_text("Mano mokymasis")
    row = ona.page.get_by_role("row").filter(
        has=ona.page.get_by_role("link", name="Data protection basics", exact=True)
    )
    expect(row).to_contain_text("Nepradėta")
    expect(row).to_contain_text("2030")
    ona.follow(ona.page.get_by_role("link", name="Data protection basics", exact=True))
    ona.follow(ona.page.get_by_role("link", name="Lesson 1.1"))
    for title in ("Lesson 1.1", "Lesson 1.2"):
        expect(ona.page.get_by_role("heading", level=1)).to_have_text(title)
        ona.follow(ona.page.get_by_role("button", name="Pažymėti kaip atliktą"))
    expect(ona.page.get_by_role("heading", level=1)).to_have_text("Data protection basics")
    ona.follow(ona.page.get_by_role("navigation").first.get_by_role("link", name="Mano mokymasis"))
    row = ona.page.get_by_role("row").filter(
        has=ona.page.get_by_role("link", name="Data protection basics", exact=True)
    )
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "100")

    # The report: Ona completed, the others of the subtree not started, nobody else.
    admin.follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(1 + 3)
    for name, status in (
        ("Ona Žemaitė", "Completed"),
        ("Jonas Jonaitis", "Not started"),
        ("Petras Petraitis", "Not started"),
    ):
        expect(table.get_by_role("row").filter(has_text=name)).to_contain_text(status)
    expect(page.get_by_text("lina@example.org")).to_have_count(0)
    expect(page.get_by_text("zofia@example.org")).to_have_count(0)

    # And the administrator reads the same report in Lithuanian.
    page.get_by_label("Language", exact=True).select_option("lt")
    admin.follow(page.get_by_role("button", name="Change"))
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ataskaitos")
    expect(table.get_by_role("row").filter(has_text="Ona Žemaitė")).to_contain_text("Baigta")
    expect(table.get_by_role("row").filter(has_text="Jonas Jonaitis")).to_contain_text("Nepradėta")
