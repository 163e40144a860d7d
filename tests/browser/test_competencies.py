"""Competency tracking in a real browser (issue 16), on the shipped demo library: a
learner completes "Social clustering" — every lesson, and its quiz, passed once a
trainer has graded the essay — and My competencies then shows the course's linked
competencies proficient with the evidence behind them, the parent rated by its rule
and the badges to download; the trainer overrides a rating with a note, which the
learner reads in Lithuanian. axe-core checks every page on the way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.browser.test_learner import log_in
from vle.catalog.models import Course
from vle.library import services as library

pytestmark = pytest.mark.browser

COURSES = Path(__file__).resolve().parents[2] / "courses"


@pytest.fixture
def demo(app, live_server, session, make_org, make_user):
    app.config["BASE_URL"] = live_server  # the badges' URLs lead to this server
    library.import_paths(session, [COURSES])
    org = make_org("KLP", name="Klaipėdos savivaldybė")
    trainer = make_user("trainer", org=org, name="Rasa Mokytoja", email="rasa@example.org")
    make_user(org=org, name="Ona Žemaitė", email="ona@example.org")
    course = session.scalar(select(Course).where(Course.slug == "social-clustering"))
    course.trainers.append(trainer)
    session.commit()
    return course


def question(page: Page, text: str) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Question \d+$")).filter(has_text=text)


def card(page: Page, code: str) -> Locator:
    return page.locator("article.competency-card").filter(
        has=page.get_by_role("heading", name=re.compile("^" + re.escape(code) + " "))
    )


def test_completing_a_demo_course_makes_its_competencies_proficient(open_site, demo):
    ona = open_site()
    page = ona.page
    log_in(ona, "ona@example.org")
    ona.visit("/courses/social-clustering")
    ona.follow(page.get_by_role("button", name="Enrol"))
    ona.follow(page.get_by_role("link", name=re.compile("^What a social cluster is")).first)
    # Every lesson, marked complete one after another; the quiz comes last.
    for _ in range(9):
        ona.follow(page.get_by_role("button", name="Mark as complete"))
    ona.visit("/courses/social-clustering")
    ona.follow(page.get_by_role("link", name="Check your understanding"))
    ona.follow(page.get_by_role("button", name="Start attempt"))

    q = question(page, "Which description best fits a social cluster?")
    q.get_by_role("radio", name=re.compile("^Several organisations in one area")).check()
    q = question(page, "Which shared-service model is this?")
    q.get_by_role("radio", name="Host (lead organisation) model").check()
    question(page, "collaborative advantage").get_by_role("textbox").fill("collaborative inertia")
    question(page, "How many municipalities").get_by_role("textbox").fill("60")
    question(page, "takes over the municipality's legal").get_by_role("radio", name="False").check()
    question(page, "modest, achievable aims").get_by_role("radio", name="True").check()
    question(page, "Describe one service").get_by_role("textbox").fill(
        "The library and the care home share a digital-skills tutor (host model);"
        " indicator: residents who use e-services on their own."
    )
    ona.follow(page.get_by_role("button", name="Submit"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit your answers?")
    ona.follow(page.get_by_role("button", name="Submit"))
    expect(page.get_by_role("region", name="Your result")).to_contain_text(re.compile("grad", re.I))

    # The trainer grades the essay: the quiz is passed, the course completed.
    rasa = open_site()
    log_in(rasa, "rasa@example.org")
    tpage = rasa.page
    rasa.visit("/trainer/grading")
    rasa.follow(tpage.get_by_role("link", name=re.compile("Ona Žemaitė")).first)
    tpage.get_by_label(re.compile(r"^Mark for question \d+")).fill("100")
    rasa.follow(tpage.get_by_role("button", name="Save marks"))

    ona.visit("/my")
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=re.compile("^Social clustering"))
    )
    expect(row).to_contain_text("Completed")

    # My competencies: the course's links fired.
    ona.follow(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="My competencies"
    ))  # fmt: skip
    expect(page.get_by_role("heading", level=1)).to_have_text("My competencies")
    for code in ("PS-COOP-1", "PS-COOP-3"):
        expect(card(page, code)).to_contain_text("Proficient")
        expect(card(page, code).get_by_role("link", name=re.compile("^Open Badge"))).to_be_visible()
        expect(
            card(page, code).get_by_role("link", name=re.compile("^Verifiable credential"))
        ).to_be_visible()
    evidence = card(page, "PS-COOP-3").locator("details.evidence")
    evidence.locator("summary").click()
    expect(evidence).to_contain_text("Social clustering")
    # PS-COOP-2 is linked with "recommend" by the quiz: a trainer is asked to review it.
    expect(card(page, "PS-COOP-2")).to_contain_text("Waiting for a trainer's review")

    # The trainer reviews it: proficient, with a note.
    rasa.visit("/trainer/competencies/reviews")
    rasa.follow(tpage.get_by_role("link", name=re.compile("Ona Žemaitė")).first)
    expect(tpage.get_by_role("heading", level=1)).to_have_text("Competencies of Ona Žemaitė")
    target = card(tpage, "PS-COOP-2")
    target.locator("details.rate summary").click()
    target.get_by_role("combobox", name=re.compile("^Rating")).select_option(label="Proficient")
    target.get_by_role("textbox", name=re.compile("^Note")).fill("Led the partners' meeting well.")
    rasa.follow(target.get_by_role("button", name=re.compile("^Rate")))
    expect(card(tpage, "PS-COOP-2")).to_contain_text("rated by a trainer")
    # All three children proficient: the parent is rated by its rule.
    expect(card(tpage, "PS-COOP")).to_contain_text("Proficient")

    # Ona reads it in Lithuanian.
    page.get_by_label("Language", exact=True).select_option("lt")
    ona.follow(page.get_by_role("button", name="Change", exact=True))
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    ona.visit("/my/competencies")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mano kompetencijos")
    expect(card(page, "PS-COOP-2")).to_contain_text("Led the partners' meeting well.")

    # The badge's public page, then the public verify page given its address.
    ona.follow(card(page, "PS-COOP-1").locator(".badge-links a").first)
    expect(page.locator("h2.verified")).to_have_count(1)
    assertion = page.url
    ona.visit("/badges/verify")
    page.get_by_role("textbox").fill(assertion)
    ona.follow(page.locator("main").get_by_role("button"))
    expect(page.get_by_role("status").locator("h2.verified")).to_have_count(1)
