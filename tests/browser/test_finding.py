"""Finding a course and one's way in it, in a real browser with axe-core on every
page: a folded search, "Lesson 3 of N", the course index, Mark as complete's
message, and an enrolment key refused then accepted, revealed by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_learner import expect_status
from tests.browser.test_quiz import focused, log_in_by_keyboard, press_to_go, tab_to

pytestmark = pytest.mark.browser


def test_search_open_a_lesson_use_the_index_and_complete_it(site, session, make_user, make_course):
    course = make_course(slug="lodz", title="Współpraca w Łódź", modules=2, lessons=3)
    course.language = "pl"
    make_course(title="Samarbeid i Tromsø")
    session.commit()
    learner = make_user(name="Ona Petraitienė")
    page = site.page
    log_in_by_keyboard(site, learner.email)

    site.visit("/courses")
    page.get_by_label("Search").fill("lodz")
    page.get_by_label("Course language").select_option(label="Polish")
    site.follow(page.get_by_role("button", name="Search"))
    expect_status(page, "1 course matches “lodz”.")
    expect(page.get_by_role("link", name="Samarbeid i Tromsø")).to_have_count(0)
    expect(page.get_by_text("Language: Polish")).to_be_visible()
    site.follow(page.get_by_role("link", name="Współpraca w Łódź"))
    site.follow(page.get_by_role("button", name="Enrol"))

    site.follow(page.get_by_role("link", name="Lesson 1.3"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 1.3")
    expect(page.get_by_text("Lesson 3 of 6")).to_be_visible()
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link")).to_have_text(
        ["Courses", "Współpraca w Łódź", "Module 1", "Lesson 1.3"]
    )

    # The course index opens by keyboard and marks where the learner is.
    index = page.get_by_role("navigation", name="Course contents")
    expect(index).to_be_hidden()
    tab_to(page, page.get_by_text("Course contents", exact=True))
    page.keyboard.press("Enter")
    expect(index).to_be_visible()
    current = index.get_by_role("link", name="Lesson 1.3")
    expect(current).to_have_attribute("aria-current", "page")
    expect(index.locator("ol > li").filter(has_text="(not done)")).to_have_count(6)

    site.follow(page.get_by_role("button", name="Mark as complete"))
    expect_status(page, "“Lesson 1.3” marked as complete.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lesson 2.1")
    expect(page.get_by_text("Lesson 4 of 6")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("link")).to_contain_text(
        ["Module 2"]
    )


def test_enrolment_key_wrong_then_right_revealed_by_keyboard(site, session, make_user, make_course):
    course = make_course(slug="keyed", title="Cross-border cooperation", key="Vilnius-2026")
    course.enrolment_key_hint = "In your invitation e-mail."
    session.commit()
    learner = make_user()
    page = site.page
    log_in_by_keyboard(site, learner.email)
    site.visit("/courses/keyed")

    key = page.get_by_label("Enrolment key")
    expect(key).to_have_attribute("type", "password")
    expect(key).to_have_accessible_description("In your invitation e-mail.")
    tab_to(page, key)
    page.keyboard.type("wrong key")
    press_to_go(site, "Enter")
    # The course page again (GET: a refresh repeats nothing), the error on the field.
    expect(page).to_have_url(site.base_url + "/courses/keyed")
    key = page.get_by_label("Enrolment key")
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(key).to_have_accessible_description(
        "In your invitation e-mail. The enrolment key is not correct."
    )
    site.navigate(page.reload)
    expect(page.get_by_label("Enrolment key")).not_to_have_attribute("aria-invalid", "true")

    # Show key, by keyboard: the typed key can be checked before sending it.
    key = page.get_by_label("Enrolment key")
    tab_to(page, key)
    page.keyboard.type("Vilnius-2026")
    reveal = page.get_by_role("checkbox", name="Show key")
    tab_to(page, reveal)
    page.keyboard.press("Space")
    expect(reveal).to_be_checked()
    expect(key).to_have_attribute("type", "text")
    expect(key).to_have_value("Vilnius-2026")
    page.keyboard.press("Space")
    expect(key).to_have_attribute("type", "password")
    tab_to(page, page.get_by_role("button", name="Enrol"))
    assert focused(page.get_by_role("button", name="Enrol"))
    press_to_go(site, "Enter")
    expect_status(page, "You are enrolled in Cross-border cooperation.")
    expect(page.get_by_label("Enrolment key")).to_have_count(0)
