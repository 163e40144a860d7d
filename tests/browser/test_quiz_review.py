"""A quiz with the keyboard alone, as a new user met it (issue 18): negative
marking said on the question, a question flagged for later and the flag on the
confirmation page, an essay's word count as it is typed, and the review saying
each option of a multiple-answer question in words. axe-core checks every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, question, tab_to
from tests.quizzes import conftest as quiz_fixtures
from tests.quizzes.conftest import ESSAY, GIFT

pytestmark = pytest.mark.browser

make_quiz = quiz_fixtures.make_quiz
enrol = quiz_fixtures.enrol


def test_flag_confirm_submit_and_review_in_words(site, make_quiz, make_user, enrol):
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    learner = make_user(name="Ona Petraitienė")
    enrol(learner, course)
    page = site.page

    log_in_by_keyboard(site, learner.email)
    site.visit(f"/courses/{course.slug}/items/{item.id}")
    tab_to(page, page.get_by_role("button", name="Start attempt"))
    press_to_go(site)

    colours = question(page, 2)
    expect(colours).to_contain_text("Wrong answers lose marks:")
    for colour in ("Yellow", "Blue"):
        tab_to(page, colours.get_by_role("checkbox", name=colour))
        page.keyboard.press("Space")
    tab_to(page, colours.get_by_role("checkbox", name="Flag question 2 for later"))
    page.keyboard.press("Space")
    nav = page.get_by_role("navigation", name="Questions")
    # Saved in the background: the list of questions says so, in words.
    expect(nav.get_by_role("link", name="Question 2: answered, flagged")).to_be_visible()
    expect(nav.get_by_role("link", name="Question 1: not answered")).to_be_visible()

    essay = question(page, 6).get_by_role("textbox")
    count = page.locator(f"#{essay.get_attribute('aria-describedby').split()[-1]}")
    expect(count).to_have_text("Words: 0")
    expect(count).to_have_attribute("aria-live", "polite")
    tab_to(page, essay)
    page.keyboard.type("I will ask before I assume.")
    expect(count).to_have_text("Words: 6")
    expect(page.locator("#save-state")).to_have_text("All answers are saved.")
    site.audit()  # the page as the script left it

    tab_to(page, page.get_by_role("button", name="Submit"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit your answers?")
    expect(page.get_by_text("You flagged 1 question for later.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Question 2 "))).to_contain_text(
        "Answered, Flagged"
    )
    expect(page.get_by_role("row", name=re.compile(r"^Question 1 "))).not_to_contain_text("Flagged")
    tab_to(page, page.get_by_role("button", name="Submit"))
    press_to_go(site)

    review = question(page, 2)
    options = review.get_by_role("listitem")
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_have_text("✓ Yellow: Chosen, correct. Feedback: Yes.")
    expect(options.nth(1)).to_have_text(
        "✗ Green: Not chosen, should have been chosen. Feedback: Yes."
    )
    expect(options.nth(2)).to_have_text(
        "✗ Blue: Chosen, should not have been chosen. Feedback: No."
    )
