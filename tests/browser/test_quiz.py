"""Quizzes in a real browser: a timed quiz taken with the keyboard alone, and an
attempt that survives the page being closed. axe-core checks every page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from tests.browser.conftest import Site
from tests.conftest import PASSWORD
from tests.quizzes import conftest as quiz_fixtures
from tests.quizzes.conftest import GIFT, MATCHING
from vle.db import utcnow
from vle.quizzes.models import Attempt

pytestmark = pytest.mark.browser

# The quiz fixtures of tests/quizzes, here too.
make_quiz = quiz_fixtures.make_quiz
enrol = quiz_fixtures.enrol

QUIZ = GIFT + "\n" + MATCHING


def focused(locator: Locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def tab_to(page: Page, locator: Locator, limit: int = 80) -> None:
    """Press Tab until `locator` has the focus: it must be reachable by keyboard."""
    for _ in range(limit):
        if focused(locator):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {locator}")


def press_to_go(site: Site, key: str = "Enter") -> None:
    """A key press that loads another page (the keyboard's Site.follow)."""
    site._check_all_audited()
    with site.page.expect_navigation():
        site.page.keyboard.press(key)
    site.audit()


def choose_radio(page: Page, group: Locator, name: str) -> None:
    """Tab into a radio group and move to the choice with the arrow keys."""
    target = group.get_by_role("radio", name=name, exact=True)
    tab_to(page, group.get_by_role("radio").first)
    for _ in range(10):
        if focused(target):
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(target).to_be_checked()


def question(page: Page, number: int) -> Locator:
    return page.get_by_role("region", name=f"Question {number}", exact=True)


def log_in_by_keyboard(site: Site, email: str) -> None:
    page = site.page
    site.visit("/login")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(email)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    press_to_go(site, "Enter")
    # Signed in (on a phone the button is folded away in the header: layout.js).
    expect(page.get_by_role("button", name="Log out", include_hidden=True)).to_have_count(1)


def test_a_timed_quiz_with_the_keyboard_alone(site, session, make_quiz, make_user, enrol):
    course, item = make_quiz(QUIZ, time_limit_minutes=10, pass_mark=80)
    learner = make_user(name="Ona Petraitienė")
    enrol(learner, course)
    page = site.page
    url = f"/courses/{course.slug}/items/{item.id}"

    log_in_by_keyboard(site, learner.email)
    site.visit(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your knowledge")
    expect(page.get_by_text("10 minutes")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Start attempt"))
    press_to_go(site)

    # The server's deadline, put 10 minutes and a few seconds ahead, so that the
    # page crosses the 10-minute threshold while the test watches.
    session.commit()
    attempt = session.scalar(select(Attempt).where(Attempt.user_id == learner.id))
    attempt.deadline = utcnow() + timedelta(minutes=10, seconds=4)
    session.commit()
    site.visit(url)
    timer = page.locator("#quiz-timer-text")
    expect(timer).to_have_text(re.compile(r"Time left: 10:0\d"))
    # The countdown itself is silent; only thresholds are announced.
    assert timer.evaluate(
        "el => !el.closest('[aria-live], [role=status], [role=alert], [role=timer], [role=log]')"
    )
    alert = page.locator("#quiz-timer-alert")
    expect(alert).to_have_text("")

    choose_radio(page, question(page, 1), "Vilnius")
    for colour in ("Yellow", "Green"):
        tab_to(page, question(page, 2).get_by_role("checkbox", name=colour))
        page.keyboard.press("Space")
    choose_radio(page, question(page, 3), "True")
    tab_to(page, question(page, 4).get_by_role("textbox"))
    page.keyboard.type("2004")
    tab_to(page, question(page, 5).get_by_role("textbox"))
    page.keyboard.type("Nemunas")
    for stem, option in (("Vilnius", "Lith"), ("Warsaw", "Pol"), ("Oslo", "Nor")):
        tab_to(page, question(page, 6).get_by_role("combobox", name=stem))
        page.keyboard.type(option)

    # Saved in the background as answered: the list of questions says so.
    questions = page.get_by_role("navigation", name="Questions")
    for number in range(1, 7):
        expect(questions.get_by_role("link", name=f"Question {number}: answered")).to_be_visible()
    expect(page.locator("#save-state")).to_have_text("All answers are saved.")
    expect(alert).to_have_text("10 minutes left.", timeout=10_000)
    site.audit()  # the page as the script left it

    tab_to(page, page.get_by_role("button", name="Submit"))
    press_to_go(site)
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit your answers?")
    expect(page.get_by_text("You have answered 6 of 6 questions.")).to_be_visible()
    tab_to(page, page.get_by_role("button", name="Submit"))
    press_to_go(site)

    outcome = page.get_by_role("region", name="Your result")
    expect(outcome).to_contain_text("Score: 100%")
    expect(outcome).to_contain_text("Passed")
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    tab_to(page, page.get_by_role("link", name="Back to the quiz"))
    press_to_go(site)
    expect(page.get_by_text("Your grade: 100%.")).to_be_visible()
    expect(page.get_by_role("button", name="Start attempt")).to_be_visible()


def test_closing_the_page_mid_attempt_loses_no_answer(
    open_site, session, make_quiz, make_user, enrol
):
    course, item = make_quiz(QUIZ, layout="one_per_page")
    learner = make_user(name="Jonas Jonaitis")
    enrol(learner, course)
    url = f"/courses/{course.slug}/items/{item.id}"

    site = open_site()
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit(url)
    site.follow(page.get_by_role("button", name="Start attempt"))
    expect(page.get_by_text("Page 1 of 6")).to_be_visible()
    question(page, 1).get_by_role("radio", name="Vilnius").check()
    site.follow(page.get_by_role("button", name="Next"))
    question(page, 2).get_by_role("checkbox", name="Green").check()
    site.follow(page.get_by_role("button", name="Next"))
    question(page, 3).get_by_role("radio", name="False").check()
    site.follow(page.get_by_role("button", name="Next"))
    question(page, 4).get_by_role("textbox").fill("2004,0")
    site.follow(page.get_by_role("button", name="Next"))
    question(page, 5).get_by_role("textbox").fill("Neman")
    site.follow(page.get_by_role("button", name="Next"))
    matching = question(page, 6)
    matching.get_by_role("combobox", name="Warsaw").select_option(label="Poland")
    matching.get_by_role("combobox", name="Oslo").select_option(label="Lithuania")
    # Only the background save has these: no button pressed on this page.
    expect(
        page.get_by_role("navigation", name="Questions").get_by_role(
            "button", name="Question 6: answered"
        )
    ).to_be_visible()
    expect(page.locator("#save-state")).to_have_text("All answers are saved.")
    site.audit()
    page.context.close()  # the tab and the browser session are gone

    site = open_site()
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit(url)  # opening the quiz again resumes the attempt, at the page last viewed
    expect(page.get_by_text("Page 6 of 6")).to_be_visible()
    nav = page.get_by_role("navigation", name="Questions")
    for number in range(1, 7):
        expect(nav.get_by_role("button", name=f"Question {number}: answered")).to_be_visible()
    site.follow(nav.get_by_role("button", name="Question 1: answered"))
    expect(question(page, 1).get_by_role("radio", name="Vilnius")).to_be_checked()
    site.follow(nav.get_by_role("button", name="Question 2: answered"))
    expect(question(page, 2).get_by_role("checkbox", name="Green")).to_be_checked()
    expect(question(page, 2).get_by_role("checkbox", name="Yellow")).not_to_be_checked()
    # Elsewhere in the course, its page offers to continue where the learner was.
    site.visit(f"/courses/{course.slug}")
    site.follow(page.get_by_role("link", name="Continue attempt"))
    expect(page.get_by_text("Page 2 of 6")).to_be_visible()
    site.follow(page.get_by_role("button", name="Next"))
    expect(question(page, 3).get_by_role("radio", name="False")).to_be_checked()
    site.follow(page.get_by_role("button", name="Next"))
    expect(question(page, 4).get_by_role("textbox")).to_have_value("2004,0")
    site.follow(page.get_by_role("button", name="Next"))
    expect(question(page, 5).get_by_role("textbox")).to_have_value("Neman")
    site.follow(page.get_by_role("button", name="Next"))
    matching = question(page, 6)
    expect(matching.get_by_role("combobox", name="Warsaw")).to_have_value(
        matching.get_by_role("combobox", name="Warsaw")
        .locator("option", has_text="Poland")
        .get_attribute("value")
        or ""
    )
    selected = matching.get_by_role("combobox", name="Oslo").evaluate(
        "select => select.options[select.selectedIndex].text"
    )
    assert selected == "Lithuania"
    # And it is still the same single attempt.
    session.commit()
    assert len(session.scalars(select(Attempt).where(Attempt.user_id == learner.id)).all()) == 1
