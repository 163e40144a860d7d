"""The trainer's desk and a learner's own settings pages in a real browser (issue 15):
My courses, a course's participants and progress grid, a completion by hand, a
message to the course's learners; then a learner's notifications, mail choices and
API tokens. In English and in Lithuanian, at a desktop width and at 320 px (nothing
may scroll sideways: WCAG 2.1 1.4.10); axe-core checks every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import no_sideways_scroll, open_header
from tests.browser.test_learner import log_in
from tests.quizzes import conftest as quiz_fixtures
from vle.learning import services as learning

pytestmark = pytest.mark.browser

make_quiz = quiz_fixtures.make_quiz
enrol = quiz_fixtures.enrol


@pytest.fixture
def course_with_learners(session, make_org, make_user, make_course, make_quiz, enrol):
    north = make_org(code="north", name="Šiaurė")
    trainer = make_user("trainer", org=north, name="Rasa Mokytoja", email="rasa@example.org")
    course, _quiz = make_quiz(trainers=[trainer], lessons=2)
    course.title = "Integrity at work"
    ann = make_user(org=north, name="Ann Adams", email="ann@example.org")
    ona = make_user(org=north, name="Ona Žemaitė", email="ona@example.org")
    for learner in (ann, ona):
        enrol(learner, course)
    lesson = next(i for i in course.items if i.kind == "lesson")
    learning.complete_item(session, ann, course, lesson)
    session.commit()
    return course


@pytest.mark.parametrize("width", [1280, 320])
def test_trainer_desk_in_english_and_lithuanian(open_site, course_with_learners, width):
    site = open_site()
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(site, "rasa@example.org")

    site.follow(page.get_by_role("navigation", name="Main").get_by_role("link", name="My courses"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My courses")
    no_sideways_scroll(page)
    mine = page.get_by_role("table", name="Published courses")
    site.follow(mine.get_by_role("link", name="Integrity at work", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrity at work")
    no_sideways_scroll(page)
    expect(page.get_by_role("row").filter(has_text="Ann Adams").first).to_contain_text(
        "In progress"
    )

    # The grid filtered to those not started: Ona only.
    page.get_by_label("Status").select_option(label="Not started")
    site.follow(page.get_by_role("button", name="Filter"))
    no_sideways_scroll(page)

    # Ona did the training face to face.
    page.get_by_label("Learner", exact=True).select_option(label="Ona Žemaitė (ona@example.org)")
    page.get_by_label("Reason").first.fill("Face-to-face session on 2 December")
    site.follow(page.get_by_role("button", name="Mark complete"))
    expect(page.get_by_role("row").filter(has_text="Ona Žemaitė").first).to_contain_text(
        "Completed"
    )
    no_sideways_scroll(page)

    # A message to the course's learners.
    site.visit(f"/courses/{course_with_learners.slug}")
    site.follow(page.get_by_role("link", name="Message to learners"))
    page.get_by_label("Subject").fill("Room change")
    page.get_by_label("Message").fill("We meet in room 12 on Friday.")
    site.follow(page.get_by_role("button", name="Send"))
    no_sideways_scroll(page)

    # The same desk in Lithuanian.
    open_header(page)
    page.get_by_label("Language", exact=True).select_option("lt")
    site.follow(page.get_by_role("button", name="Change", exact=True))
    expect(page.locator("html")).to_have_attribute("lang", "lt")
    site.visit("/trainer/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("My courses")
    no_sideways_scroll(page)
    site.follow(page.get_by_role("link", name="Integrity at work").first)
    no_sideways_scroll(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_learner_settings_pages(open_site, course_with_learners, width):
    site = open_site()
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    log_in(site, "ann@example.org")
    for locale in ("en", "lt"):
        if locale == "lt":
            open_header(page)
            page.get_by_label("Language", exact=True).select_option("lt")
            site.follow(page.get_by_role("button", name="Change", exact=True))
            expect(page.locator("html")).to_have_attribute("lang", "lt")
        for path in ("/my", "/my/notifications", "/my/tokens", "/my/password"):
            site.visit(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            no_sideways_scroll(page)
