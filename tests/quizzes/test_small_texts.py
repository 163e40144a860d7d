"""Small texts people read: whose answer the grading page shows, and lines that
start where the text does (no stray space before "Submitted" or "About … minutes")."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT
from tests.quizzes.test_views import attempt_url, form_data, start, the_attempt

CSS = Path(__file__).resolve().parents[2] / "vle" / "static" / "vle.css"


def test_the_grading_page_shows_the_learners_answer_not_your_answer(
    client, session, make_quiz, make_user, enrol
):
    trainer = make_user("trainer")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    learner = make_user(name="Ona Onaitė")
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    url = attempt_url(course, item, attempt.id)
    answers = {**RIGHT, "Reflect": "I will ask before I accept."}
    post_form(client, f"{url}/answers", form_data(session, item, answers))
    post_form(client, f"{url}/submit")
    learner_page = client.get(url).get_data(as_text=True)
    assert "<dt>Your answer</dt>" in learner_page  # the learner's own review
    staff = client.application.test_client()
    login(staff, trainer.email)
    page = staff.get(f"/trainer/attempts/{attempt.id}").get_data(as_text=True)
    assert re.search(r"<dt>Learner(&#39;|')s answer</dt>", page), page[page.find("<dl") :][:300]
    assert "Your answer" not in page


def test_a_lessons_length_and_an_attempts_time_start_their_line(client, make_course, make_user):
    course = make_course(slug="safe-work")
    item = course.modules[0].items[0]
    assert item.minutes, "the factory's lessons take some minutes"
    learner = make_user()
    login(client, learner.email)
    post_form(client, "/courses/safe-work/enrol", page="/courses/safe-work")
    page = client.get(f"/courses/safe-work/items/{item.id}").get_data(as_text=True)
    assert re.search(r'<p class="meta">About \d+ minutes?</p>', page)
    # A paragraph of its own is not pushed in: only a note beside a title is set apart.
    rules = dict(re.findall(r"^([^{}\n]+?)\s*\{([^}]*)\}", CSS.read_text(), re.M))
    assert "margin-left" not in rules[".meta"]
    assert "margin-left" in rules["span.meta"]


TABLE_QUESTION = """\
::Fees::[markdown]Which fee is due?\\n\\n| Service | Fee |\\n|---|---|\\n| Permit | 20 |\\n{
=Permit
~Nothing
}
"""


def test_a_table_in_a_question_scrolls_in_its_own_named_box(
    client, session, make_quiz, make_user, enrol
):
    """As a lesson's table does: on a phone the page does not scroll sideways,
    the table does, in a region a keyboard reaches — on the question and its review."""
    course, item = make_quiz(TABLE_QUESTION)
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    url = attempt_url(course, item, the_attempt(session, learner).id)
    box = re.compile(
        r'<div class="table-wrap" role="region" tabindex="0" aria-label="Service">\s*<table'
    )
    assert box.search(client.get(url, follow_redirects=True).get_data(as_text=True))
    post_form(client, f"{url}/answers", form_data(session, item, {"Fees": "Permit"}))
    post_form(client, f"{url}/submit")
    review = client.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Permit" in review and box.search(review)
