"""A trainer's quiz pages in a real browser: results, the grading queue, grading
an essay, accommodations. axe-core checks every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_learner import log_in
from tests.quizzes import conftest as quiz_fixtures
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT, question_ids
from vle.quizzes import services

pytestmark = pytest.mark.browser

make_quiz = quiz_fixtures.make_quiz
enrol = quiz_fixtures.enrol


def test_trainer_sees_results_grades_an_essay_and_gives_extra_time(
    site, session, make_quiz, make_user, enrol
):
    trainer = make_user("trainer", name="Rasa Trainer")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer], time_limit_minutes=20)
    learner = make_user(name="Ona Petraitienė", email="ona@example.org")
    enrol(learner, course)
    attempt, _ = services.start_attempt(session, learner, course, item)
    ids = question_ids(session, item)
    for title, value in {**RIGHT, "Reflect": "I will declare gifts at once."}.items():
        services.save_answer(session, attempt, ids[title], value)
    services.submit(session, attempt, course, item)
    session.commit()
    page = site.page

    log_in(site, trainer.email)
    site.visit(f"/courses/{course.slug}/items/{item.id}")
    site.follow(page.get_by_role("link", name="Results of this quiz"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results")
    questions = page.get_by_role("table", name="Share of learners who got each question right")
    expect(questions.get_by_role("row")).to_have_count(7)  # a header and six questions
    attempts = page.get_by_role("table", name="Every attempt at this quiz")
    expect(attempts).to_contain_text("Ona Petraitienė")
    expect(attempts).to_contain_text("Waiting for grading")

    site.follow(page.get_by_role("link", name="Grading queue").first)
    site.follow(page.get_by_role("link", name="Grade attempt 1 — Ona Petraitienė"))
    expect(page.get_by_text("I will declare gifts at once.")).to_be_visible()
    mark = page.get_by_label("Mark for question 6 (0 to 100%)")
    mark.fill("lots")
    site.follow(page.get_by_role("button", name="Save marks"))
    expect(page.get_by_role("alert")).to_contain_text("Some marks could not be saved")
    mark = page.get_by_label("Mark for question 6 (0 to 100%)")
    expect(mark).to_have_attribute("aria-invalid", "true")
    expect(mark).to_have_accessible_description("Give the mark as a number from 0 to 100.")
    mark.fill("50")
    page.get_by_label("Comment for the learner on question 6").fill("Say when and to whom.")
    site.follow(page.get_by_role("button", name="Save marks"))
    expect(page.get_by_role("status").filter(has_text="The marks are saved.")).to_have_count(1)
    expect(page.get_by_text("Score: 91.67%")).to_be_visible()
    site.follow(page.get_by_role("link", name="Grading queue").first)
    expect(page.get_by_text("No answers are waiting to be graded.")).to_be_visible()

    site.visit(f"/trainer/quizzes/{item.id}/accommodations")
    page.get_by_label("Learner's email").fill("ona@example.org")
    page.get_by_label("Extra time (minutes)").fill("10")
    page.get_by_label("Extra attempts").fill("1")
    site.follow(page.get_by_role("button", name="Save"))
    row = page.get_by_role("table", name="Accommodations on this quiz").get_by_role("row").nth(1)
    expect(row).to_contain_text("Ona Petraitienė")
    expect(row).to_contain_text("10")
