"""A quiz with the keyboard alone, as a new user met it (issue 18): negative
marking said on the question, a question flagged for later and the flag on the
confirmation page, an essay's word count as it is typed, and the review saying
each option of a multiple-answer question in words. axe-core checks every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Route, expect

from tests.browser.test_quiz import log_in_by_keyboard, press_to_go, question, tab_to
from tests.conftest import PASSWORD
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
    expect(count).to_be_visible()  # shown by quiz.js, which keeps it counted
    expect(count).to_have_attribute("aria-live", "polite")
    expect(page.get_by_text("Up to 10,000 characters.")).to_be_visible()
    tab_to(page, essay)
    page.keyboard.type("I will ask before I assume.")
    expect(count).to_have_text("Words: 6")
    page.keyboard.type(" – ąžuolas")  # a dash is no word; a word in any alphabet is one
    expect(count).to_have_text("Words: 7")
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


def test_an_essay_at_its_length_limit_says_so(site, make_quiz, make_user, enrol):
    course, item = make_quiz(ESSAY)
    learner = make_user()
    enrol(learner, course)
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit(f"/courses/{course.slug}/items/{item.id}")
    site.follow(page.get_by_role("button", name="Start attempt"))
    essay = question(page, 1).get_by_role("textbox")
    count = page.locator(".word-count")
    essay.fill("word " * 1999 + "last")  # 9,999 characters
    essay.press("End")
    page.keyboard.type("s and more")  # the box takes one more character, no more
    expect(essay).to_have_value(re.compile(r" lasts$"))
    expect(count).to_have_text(
        "Words: 2000. This answer has reached the limit of 10,000 characters; "
        "nothing more can be added."
    )
    page.keyboard.press("Backspace")
    expect(count).to_have_text("Words: 2000")
    expect(page.locator("#save-state")).to_have_text("All answers are saved.")
    site.audit()


PHONE = {"width": 320, "height": 800}


@pytest.mark.parametrize("language", ["lt", "pl", "nb"])
def test_a_quiz_for_a_new_user_in_every_language_on_a_phone(
    open_site, language, make_quiz, make_user, enrol
):
    """The same steps in Lithuanian, Polish and Norwegian, 320 px wide: axe-core
    checks the question page (a penalty said, a flag, an essay counted), the
    confirmation and the review; none scrolls sideways."""
    course, item = make_quiz(GIFT + "\n" + ESSAY)
    learner = make_user()
    enrol(learner, course)
    site = open_site(locale=language)
    page = site.page
    page.set_viewport_size(PHONE)
    site.visit("/login")
    page.locator("input[name=email]").fill(learner.email)
    page.locator("input[name=password]").fill(PASSWORD)
    site.follow(page.locator("form:has(input[name=password]) button[type=submit]"))
    site.visit(f"/courses/{course.slug}/items/{item.id}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    site.follow(page.locator("form.start-attempt button"))

    colours = page.locator("section.question").nth(1)
    expect(colours.locator(".penalty")).to_be_visible()
    colours.locator("input[name=flag]").check()
    nav_flag = page.locator(".question-nav li").nth(1).locator(".nav-flag")
    expect(nav_flag).to_be_visible()
    expect(nav_flag).not_to_have_text("flagged")  # said in the page's language
    essay = page.locator("textarea")
    essay.press_sequentially("Aš paklausiu – prieš darydamas išvadas.")
    expect(page.locator(".word-count")).to_have_text(re.compile(r"\b5\b"))
    expect(page.locator(".word-count")).not_to_have_text(re.compile("Words"))
    saved = page.locator("#save-state")
    expect(saved).to_have_text(saved.get_attribute("data-saved") or "")
    site.audit()
    # The course page offers to continue the attempt, in the page's language.
    site.visit(f"/courses/{course.slug}")
    site.follow(page.locator("a.continue-attempt"))
    expect(page.locator("textarea")).to_have_value("Aš paklausiu – prieš darydamas išvadas.")
    expect(page.locator(".question-nav li").nth(1).locator(".nav-flag")).to_be_visible()

    site.follow(page.locator("button[name=action][value=submit]"))
    expect(page.locator("tbody tr").nth(1).locator(".flagged")).to_be_visible()
    site.follow(page.locator("form.confirm-actions button[type=submit]"))
    options = page.locator(".review-options li")
    expect(options).to_have_count(3)
    expect(options.first.locator("strong")).not_to_have_text(re.compile("chosen", re.I))


def test_a_flag_saved_without_a_connection_is_tried_again(site, make_quiz, make_user, enrol):
    course, item = make_quiz(GIFT)
    learner = make_user()
    enrol(learner, course)
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit(f"/courses/{course.slug}/items/{item.id}")
    site.follow(page.get_by_role("button", name="Start attempt"))
    tries: list[str] = []

    def first_try_lost(route: Route) -> None:
        tries.append(route.request.url)
        if len(tries) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/flags/*", first_try_lost)
    question(page, 3).get_by_role("checkbox", name="Flag question 3 for later").check()
    state = page.locator("#save-state")
    expect(state).to_have_text("Not saved yet: no connection. Trying again…")
    nav = page.get_by_role("navigation", name="Questions")
    expect(nav.get_by_role("link", name="Question 3: not answered, flagged")).to_be_visible()
    expect(state).to_have_text("All answers are saved.")
    assert len(tries) == 2
    site.audit()
    # Taken off again, the list no longer says it.
    question(page, 3).get_by_role("checkbox", name="Flag question 3 for later").uncheck()
    expect(nav.get_by_role("link", name="Question 3: not answered", exact=True)).to_be_visible()
