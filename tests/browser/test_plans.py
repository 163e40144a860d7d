"""Learning plans in a real browser (issue 16, point 7), on the shipped demo library:
a network administrator makes a "Municipal social worker" template of three
competencies of the PSCI framework with a due date, assigns it to an organisation
subtree (a dry run, then for real); a learner of that subtree finds the plan on My
competencies at 0 %, a trainer rates one of its competencies, and the learner's
progress goes up; the administrator reads who lacks what, in words and not only in
a picture, completes the learner's plan by hand, and the learner sees it complete
with its ratings frozen. Then the learner's pages and the gap view again in
Lithuanian (structure only: the translations come later). At 1280 px and at 320 px,
where no page may scroll sideways; axe-core checks every page on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.browser.conftest import Site, no_sideways_scroll, open_header
from tests.browser.test_learner import log_in
from vle.catalog.models import Course
from vle.competencies import services as competencies
from vle.competencies.models import Plan
from vle.learning import services as learning
from vle.library import services as library

pytestmark = pytest.mark.browser

COURSES = Path(__file__).resolve().parents[2] / "courses"
PLAN = "Municipal social worker"
# Chosen on the form by their labels; the tables show them in the framework's order.
CHOSEN = {
    "PS-COOP-1": "Designs a partnership and its shared services",
    "PS-COOP-3": "Measures and reports the results of cooperation",
    "PS-INT-1": "Recognises, declares and manages conflicts of interest",
}
DUE = re.compile("30 June 2030|June 30, 2030")  # in the British or the American way


@pytest.fixture
def network(app, session, make_org, make_user):
    """Klaipėda with its social services centre below it, and Vilnius apart; a
    network administrator, a trainer of the anti-corruption course, two learners
    in Klaipėda's subtree and one in Vilnius."""
    library.import_paths(session, [COURSES])
    klaipeda = make_org("KLP", name="Klaipėdos savivaldybė")
    centre = make_org("KLPSOC", parent=klaipeda, name="Socialinių paslaugų centras")
    vilnius = make_org("VLN", name="Vilniaus savivaldybė")
    make_user("admin", org=vilnius, email="net@example.org", name="Nora Tinklaitė", network=True)
    trainer = make_user("trainer", org=klaipeda, name="Rasa Mokytoja", email="rasa@example.org")
    ona = make_user(org=centre, name="Ona Žemaitė", email="ona@example.org")
    make_user(org=klaipeda, name="Petras Petraitis", email="petras@example.org")
    make_user(org=vilnius, name="Olga Vilnietė", email="olga@example.org")
    course = session.scalar(select(Course).where(Course.slug == "anti-corruption-basics"))
    course.trainers.append(trainer)
    session.commit()
    learning.enrol(session, ona, course, method="manual")
    session.commit()
    return {"trainer": trainer, "ona": ona}


def at_width(open_site: Callable[..., Site], width: int) -> Site:
    """A browser at `width` px whose every page, once axe has checked it, is also
    measured: nothing may scroll sideways."""
    site = open_site()
    site.page.set_viewport_size({"width": width, "height": 900})
    audit = site.audit

    def audit_and_measure() -> None:
        audit()
        no_sideways_scroll(site.page)

    site.audit = audit_and_measure  # type: ignore[method-assign]
    return site


def in_lithuanian(site: Site) -> None:
    open_header(site.page)
    site.page.get_by_label("Language", exact=True).select_option("lt")
    site.follow(site.page.get_by_role("button", name="Change", exact=True))
    expect(site.page.locator("html")).to_have_attribute("lang", "lt")


def plan_card(page: Page) -> Locator:
    """The plan's card in "My learning plans" on My competencies."""
    return page.locator("ul.plans li.card").filter(has=page.get_by_role("link", name=PLAN))


def table_rows(table: Locator) -> dict[str, list[str]]:
    """Each body row of a table: its row header → its cells' texts."""
    rows: dict[str, list[str]] = {}
    for row in table.locator("tbody tr").all():
        header = row.get_by_role("rowheader").inner_text().strip()
        rows[header] = [cell.strip() for cell in row.get_by_role("cell").all_inner_texts()]
    return rows


def rate(app, session, trainer, learner, code: str, value: str, note: str) -> None:
    """A trainer's rating, through the services, as the rating form would make it."""
    session.commit()  # end any read of before the pages' writes
    with app.app_context():
        competency = competencies.competency_by_code(session, code)
        competencies.rate(session, trainer, learner, competency, value, note)
        session.commit()


@pytest.mark.parametrize("width", [1280, 320])
def test_a_plan_assigned_to_an_organisation_followed_to_completion(
    app, session, open_site, network, width
):
    admin = at_width(open_site, width)
    apage = admin.page
    log_in(admin, "net@example.org")

    # A new template: three competencies chosen by their labels, and a due date.
    admin.follow(apage.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Administration"
    ))  # fmt: skip
    admin.follow(apage.get_by_role("navigation", name="Administration", exact=True).get_by_role(
        "link", name="Learning plans"
    ))  # fmt: skip
    expect(apage.get_by_role("heading", level=1)).to_have_text("Learning plans")
    admin.follow(apage.get_by_role("link", name="New template"))
    expect(apage.get_by_role("heading", level=1)).to_have_text("New learning plan template")
    apage.get_by_label("Name", exact=True).fill(PLAN)
    apage.get_by_label("Description").fill("What a social worker of a municipality needs.")
    apage.get_by_label("Due date").fill("2030-06-30")
    for code, title in CHOSEN.items():
        apage.get_by_role("checkbox", name=f"{code} {title}", exact=True).check()
    admin.follow(apage.get_by_role("button", name="Save"))
    expect(apage.get_by_role("heading", level=1)).to_have_text(PLAN)
    expect(apage.get_by_role("status").filter(has_text="template is saved")).to_have_count(1)
    template_path = apage.url.removeprefix(admin.base_url)
    chosen = apage.get_by_role("region", name="Competencies").get_by_role("listitem")
    expect(chosen).to_have_count(3)
    for code in CHOSEN:
        expect(chosen.filter(has_text=code)).to_have_count(1)
    expect(apage.locator("dl.facts")).to_contain_text(DUE)

    # Assigned to Klaipėda and everything below it: a dry run first.
    admin.follow(apage.get_by_role("link", name="Assign", exact=True))
    expect(apage.get_by_role("heading", level=1)).to_have_text(f"Assign {PLAN}")
    apage.get_by_label("Organisation").select_option(label="Klaipėdos savivaldybė (KLP)")
    apage.get_by_label("Role").select_option(label="Learners")
    admin.follow(apage.get_by_role("button", name="Continue"))
    expect(apage.get_by_role("status")).to_contain_text(
        "2 people of Klaipėdos savivaldybė will get the plan now"
    )
    session.commit()  # a fresh read: the dry run gave nobody a plan
    assert session.scalar(select(Plan.id)) is None
    session.commit()
    admin.follow(apage.get_by_role("main").get_by_role("button", name="Assign", exact=True))
    expect(apage.get_by_role("heading", level=1)).to_have_text(PLAN)
    expect(
        apage.get_by_role("status").filter(has_text="The plan is assigned to Klaipėdos")
    ).to_contain_text("2 people have it now")
    expect(apage.get_by_role("region", name="Assigned to organisations")).to_contain_text(
        "Learners of Klaipėdos savivaldybė and its sub-organisations"
    )
    people = apage.get_by_role("table", name="Plans made from this template, in your scope")
    rows = table_rows(people)
    assert {name: cells[:3] for name, cells in rows.items()} == {
        "Ona Žemaitė": ["Socialinių paslaugų centras", "active", "0%"],
        "Petras Petraitis": ["Klaipėdos savivaldybė", "active", "0%"],
    }  # and not Olga of Vilnius, outside the subtree
    assert all(DUE.fullmatch(cells[3]) for cells in rows.values())

    # The learner finds the plan on My competencies, nothing reached yet.
    learner = at_width(open_site, width)
    page = learner.page
    log_in(learner, "ona@example.org")
    learner.follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My competencies"
    ))  # fmt: skip
    expect(page.get_by_role("heading", level=1)).to_have_text("My competencies")
    card = plan_card(page)
    expect(card).to_contain_text("Active")
    expect(card).to_contain_text("Proficient in 0% of the plan's competencies.")
    progress = page.get_by_role("progressbar", name=f"Progress in {PLAN}")
    expect(progress).to_have_attribute("value", "0")
    expect(card).to_contain_text("PS-COOP-1, PS-COOP-3, PS-INT-1")
    learner.follow(card.get_by_role("link", name=PLAN))
    expect(page.get_by_role("heading", level=1)).to_have_text(PLAN)
    plan_url = page.url
    own = page.get_by_role("table", name="Public-sector cooperation and integrity")
    assert {code: cells[-1] for code, cells in _by_code(table_rows(own)).items()} == {
        "PS-COOP-1": "✗ not yet", "PS-COOP-3": "✗ not yet", "PS-INT-1": "✗ not yet",
    }  # fmt: skip
    expect(page.get_by_role("button", name="Complete the plan")).to_have_count(0)

    # Her trainer rates one of them: a third of the plan reached.
    rate(app, session, network["trainer"], network["ona"], "PS-INT-1", "competent",
         "Keeps her declaration of interests up to date.")  # fmt: skip
    learner.visit("/my/competencies")
    expect(progress).to_have_attribute("value", "33")
    expect(plan_card(page)).to_contain_text("Proficient in 33% of the plan's competencies.")
    learner.visit(plan_url.removeprefix(learner.base_url))
    expect(page.locator("dl.facts progress")).to_have_attribute("value", "33")
    assert _by_code(table_rows(own))["PS-INT-1"] == ["competent", "✓ yes"]

    # Who lacks what: the administrator's table, in words beside the picture.
    admin.follow(apage.get_by_role("link", name="Who lacks what"))
    expect(apage.get_by_role("heading", level=1)).to_have_text(f"Who lacks what: {PLAN}")
    expect(
        apage.get_by_role("img", name=re.compile("^Share of the 2 people proficient"))
    ).to_be_visible()
    totals = apage.get_by_role("table", name="Proficient, per competency, of 2 people")
    assert _by_code(table_rows(totals)) == {
        "PS-COOP-1": ["0", "2", "0%"],
        "PS-COOP-3": ["0", "2", "0%"],
        "PS-INT-1": ["1", "1", "50%"],
    }
    gap = apage.get_by_role("table", name=re.compile("^Each person's competencies"))
    expect(gap.get_by_role("columnheader")).to_have_text(
        ["Name", "Status", "PS-COOP-1", "PS-COOP-3", "PS-INT-1"]
    )
    assert table_rows(gap) == {
        "Ona Žemaitė": ["active", "✗ no", "✗ no", "✓ yes"],
        "Petras Petraitis": ["active", "✗ no", "✗ no", "✗ no"],
    }
    # Narrowed to the social services centre: Ona alone.
    apage.get_by_label("Organisation").select_option("KLPSOC")
    admin.follow(apage.get_by_role("button", name="Show"))
    assert list(table_rows(gap)) == ["Ona Žemaitė"]
    expect(apage.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(r"gap\.csv\?organisation=KLPSOC$")
    )

    # The administrator completes Ona's plan by hand.
    admin.follow(gap.get_by_role("link", name="Ona Žemaitė"))
    expect(apage.get_by_role("heading", level=1)).to_have_text(PLAN)
    expect(apage.get_by_role("main")).to_contain_text("Learning plan of Ona Žemaitė")
    admin.follow(apage.get_by_role("button", name="Complete the plan"))
    expect(apage.get_by_role("status").filter(has_text="The plan is complete")).to_have_count(1)
    expect(apage.locator("dl.facts")).to_contain_text(re.compile(r"complete \(completed on "))
    expect(apage.get_by_role("button", name="Reopen")).to_be_visible()

    # A rating after the plan completed does not change it: its ratings are frozen.
    rate(app, session, network["trainer"], network["ona"], "PS-COOP-1", "proficient",
         "Drafted the partnership agreement with the library.")  # fmt: skip
    learner.visit("/my/competencies")
    expect(plan_card(page)).to_contain_text("Complete")
    expect(progress).to_have_attribute("value", "33")
    learner.visit(plan_url.removeprefix(learner.base_url))
    expect(page.get_by_role("main")).to_contain_text(
        "The ratings below are those the plan was completed with."
    )
    assert [cells[-1] for cells in _by_code(table_rows(own)).values()] == [
        "✗ not yet", "✗ not yet", "✓ yes",
    ]  # fmt: skip

    # The learner's pages in Lithuanian: the same structure, whatever the words.
    in_lithuanian(learner)
    learner.visit("/my/competencies")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("ul.plans li.card")).to_have_count(1)
    expect(plan_card(page).locator("progress")).to_have_attribute("value", "33")
    learner.follow(plan_card(page).get_by_role("link", name=PLAN))
    expect(page.get_by_role("heading", level=1)).to_have_text(PLAN)
    expect(page.locator("dl.facts progress")).to_have_attribute("value", "33")
    expect(page.locator("main table tbody tr")).to_have_count(3)
    expect(page.locator("main table tbody tr").filter(has_text="PS-INT-1")).to_contain_text("✓")

    # And the gap view in Lithuanian.
    in_lithuanian(admin)
    admin.visit(f"{template_path}/gap")
    expect(apage.get_by_role("heading", level=1)).to_contain_text(PLAN)
    expect(apage.locator("main svg[role=img]")).to_have_count(1)
    tables = apage.locator("main table")
    expect(tables).to_have_count(2)
    expect(tables.nth(0).locator("tbody tr")).to_have_count(3)
    people_rows = tables.nth(1).locator("tbody tr")
    expect(people_rows).to_have_count(2)
    ona_row = people_rows.filter(has=apage.get_by_role("link", name="Ona Žemaitė"))
    expect(ona_row.get_by_role("cell")).to_have_count(4)
    expect(ona_row.get_by_role("cell").filter(has_text="✓")).to_have_count(1)
    expect(ona_row.get_by_role("cell").filter(has_text="✗")).to_have_count(2)
    # The list of templates, by the breadcrumb: 3 competencies, 2 plans, 1 complete.
    admin.follow(apage.locator("nav.breadcrumb a[href='/admin/plans']"))
    listed = apage.locator("main table tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("rowheader")).to_have_text(PLAN)
    expect(listed.locator("td.number")).to_have_text(["3", "2", "1"])


def _by_code(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    """Rows whose header is a competency ("PS-INT-1 Recognises …"), by its code."""
    return {header.split()[0]: cells for header, cells in rows.items()}
