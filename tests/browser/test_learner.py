"""A learner's journeys in a real browser, by accessible role and name, with axe-core
checking every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def expect_status(page: Page, text: str) -> None:
    """A message in a live region (role="status"), so screen readers hear it too."""
    expect(page.get_by_role("status").filter(has_text=text)).to_have_count(1)


def log_in(site: Site, email: str, password: str = PASSWORD) -> None:
    site.visit("/login")
    site.page.get_by_label("Email").fill(email)
    site.page.get_by_label("Password").fill(password)
    site.follow(site.page.get_by_role("button", name="Log in"))


def test_learner_enrols_completes_every_lesson_and_sees_100_percent(site, make_user, make_course):
    course = make_course(title="Ethics at work", modules=2, lessons=2)
    lessons = [item.title for module in course.modules for item in module.items]
    assert lessons == ["Lesson 1.1", "Lesson 1.2", "Lesson 2.1", "Lesson 2.2"]
    learner = make_user(name="Ona Petraitienė")
    page = site.page

    log_in(site, learner.email)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_text("Ona Petraitienė")).to_be_visible()

    site.follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Courses")
    site.follow(page.get_by_role("link", name="Ethics at work"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ethics at work")
    # Before enrolling, the lessons are listed but not open.
    expect(page.get_by_role("link", name="Lesson 1.1")).to_have_count(0)

    site.follow(page.get_by_role("button", name="Enrol"))
    expect_status(page, "You are enrolled in Ethics at work.")
    expect(page.get_by_role("button", name="Enrol")).to_have_count(0)

    site.follow(page.get_by_role("link", name="Lesson 1.1"))
    for number, title in enumerate(lessons):
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        site.follow(page.get_by_role("button", name="Mark as complete"))
        if number + 1 < len(lessons):
            # Completing a lesson goes on to the next one.
            expect(page.get_by_role("heading", level=1)).to_have_text(lessons[number + 1])
    # After the last lesson: back on the course page, every lesson ticked off.
    expect(page.get_by_role("heading", level=1)).to_have_text("Ethics at work")
    expect_status(page, "you have completed Ethics at work")
    expect(page.locator(".items li").filter(has_text="Completed")).to_have_count(4)

    site.follow(page.get_by_role("link", name="My learning"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My learning")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Ethics at work"))
    expect(row).to_contain_text("100%")
    expect(row).to_contain_text("Completed on")
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "100")

    site.follow(page.get_by_role("button", name="Log out"))
    expect_status(page, "You have logged out.")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    # Signed out means signed out: My learning asks for a sign-in again.
    site.visit("/my")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fmy$"))


def test_enrolment_key_wrong_then_right(site, make_user, make_course):
    make_course(slug="cross-border", title="Cross-border cooperation", key="Vilnius-2026")
    learner = make_user()
    page = site.page
    log_in(site, learner.email)
    site.visit("/courses/cross-border")

    key = page.get_by_label("Enrolment key")
    key.fill("wrong key")
    site.follow(page.get_by_role("button", name="Enrol"))
    # The error sits by the field, is tied to it for screen readers, and nothing changed.
    key = page.get_by_label("Enrolment key")
    expect(key).to_have_attribute("aria-invalid", "true")
    expect(key).to_have_accessible_description("The enrolment key is not correct.")
    expect(page.locator(".field-error")).to_contain_text("The enrolment key is not correct.")
    expect(page.get_by_text("You are enrolled.")).to_have_count(0)

    key.fill("Vilnius-2026")
    site.follow(page.get_by_role("button", name="Enrol"))
    expect_status(page, "You are enrolled in Cross-border cooperation.")
    expect(page.get_by_label("Enrolment key")).to_have_count(0)
    expect(
        page.get_by_role("progressbar", name="Progress in Cross-border cooperation")
    ).to_be_visible()
