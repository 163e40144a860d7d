"""My competencies and a trainer's rating in a real browser (issue 16): a learner
completes a course linked to a competency and sees it proficient with its
evidence and badge links, assesses herself and asks for a review; the trainer
finds the request in Competency reviews and overrides the rating with a note,
which the learner then reads. In English and Lithuanian, at a desktop width and
at 320 px (nothing may scroll sideways); axe-core checks every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import no_sideways_scroll, open_header
from tests.browser.test_learner import log_in
from tests.competencies.world import world_fixture  # noqa: F401

pytestmark = pytest.mark.browser


def _log_out(site):
    open_header(site.page)
    site.follow(site.page.get_by_role("button", name="Log out"))


@pytest.mark.parametrize("width", [1280, 320])
def test_a_learner_sees_her_competencies_and_a_trainer_rates_one(open_site, world, width):
    site = open_site()
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(site, "ona@example.org")

    # Ona completes "ethics" (its one lesson).
    site.visit("/courses/ethics")
    site.follow(page.get_by_role("link", name="Lesson 1.1"))
    site.follow(page.get_by_role("button", name="Mark as complete"))

    main_nav = page.get_by_role("navigation", name="Main")
    site.follow(main_nav.get_by_role("link", name="My competencies"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My competencies")
    no_sideways_scroll(page)
    coop = page.locator(f"#c{world.coop.id} > article")
    expect(coop).to_contain_text("Competent — Proficient")
    coop.get_by_text("Evidence (1 piece)").click()
    expect(coop.get_by_role("link", name="Ethics")).to_be_visible()
    expect(
        coop.get_by_role("link", name="Open Badge — Cooperation between organisations")
    ).to_be_visible()
    no_sideways_scroll(page)

    # Her own view of her integrity, and a request for a review.
    integrity = page.locator(f"#c{world.integrity.id} > article")
    integrity.get_by_text("Assess yourself").click()
    integrity.get_by_label("My level — Integrity").select_option(label="Proficient")
    integrity.get_by_label("Note (optional) — Integrity").fill("I chair the ethics board.")
    no_sideways_scroll(page)
    site.follow(integrity.get_by_role("button", name="Save my self-assessment — Integrity"))
    expect(page.locator(f"#c{world.integrity.id} > article")).to_contain_text(
        "yours: it never counts as a rating"
    )
    site.follow(
        page.locator(f"#c{world.coop.id} > article").get_by_role(
            "button", name="Request a review — Cooperation between organisations"
        )
    )
    expect(page.get_by_role("status")).to_contain_text("Your trainers are asked to review")

    # In Lithuanian, the same page.
    open_header(page)
    page.get_by_label("Language", exact=True).select_option("lt")
    site.follow(page.get_by_role("button", name="Change", exact=True))
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    no_sideways_scroll(page)
    open_header(page)
    page.get_by_label("Kalba", exact=True).select_option("en")
    site.follow(page.get_by_role("button", name="Keisti", exact=True))
    _log_out(site)

    # Tom, her trainer, finds the request and overrides the rating with a note.
    log_in(site, "tom@example.org")
    # Two wait: her request, and the review the course asks for integrity.
    site.follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Competency reviews 2 competencies waiting for a review"))  # fmt: skip
    expect(page.get_by_role("heading", level=1)).to_have_text("Competency reviews")
    no_sideways_scroll(page)
    site.follow(page.get_by_role("table").get_by_role("link", name="Ona Learner").first)
    expect(page.get_by_role("heading", level=1)).to_have_text("Competencies of Ona Learner")
    no_sideways_scroll(page)
    card = page.locator(f"#c{world.coop.id} > article")
    card.locator("details.rate > summary").click()
    card.get_by_label("Rating — Cooperation between organisations").select_option(
        label="Not yet competent"
    )
    site.follow(card.get_by_role("button", name="Rate — Cooperation between organisations"))
    # No note: refused, said beside the field.
    card = page.locator(f"#c{world.coop.id} > article")
    expect(card).to_contain_text("Write a note: say what the rating rests on.")
    card.get_by_label("Note — Cooperation between organisations").fill("Needs practice.")
    site.follow(card.get_by_role("button", name="Rate — Cooperation between organisations"))
    expect(page.get_by_role("status")).to_contain_text("Ona Learner is rated “Not yet competent”")
    no_sideways_scroll(page)
    site.visit("/trainer/competencies/reviews")
    queue = page.get_by_role("table")
    expect(queue).to_contain_text("PS-INT")  # the course's request stays
    expect(queue).not_to_contain_text("PS-COOP")  # rated: off the queue
    _log_out(site)

    # Ona reads the trainer's rating and note.
    log_in(site, "ona@example.org")
    site.visit("/my/competencies")
    coop = page.locator(f"#c{world.coop.id} > article")
    expect(coop).to_contain_text("Not yet competent — Not proficient yet")
    coop.get_by_text("Evidence (2 pieces)").click()
    expect(coop).to_contain_text("Needs practice.")
    expect(coop).to_contain_text("by Tom Trainer")
    no_sideways_scroll(page)
