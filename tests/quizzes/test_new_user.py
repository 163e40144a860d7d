"""What a new user tripped over in quizzes (issue 18): resuming at the page last
viewed and **Continue attempt** on the course page, flags for later, the
essay's word count, negative marking said before answering, and a review in
words (every option of a multiple-answer question, no `*` pattern)."""

from __future__ import annotations

import html
import re

from sqlalchemy import update

from tests.conftest import csrf_token, login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, question_ids
from tests.quizzes.test_views import attempt_url, form_data, item_url, start, the_attempt
from vle.catalog.models import Course

SHORT = """\
::Process::What do plants do with light?{
=photo*#Photosynthesis, yes.
=*synthesis
}
"""


def text(page: str) -> str:
    """The page's words, as a reader meets them: hidden elements and tags gone,
    spaces collapsed, none before a comma, full stop or colon."""
    page = re.sub(r"<(\w+)[^>]*\shidden[\s>][^<]*</\1>", "", page)
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return re.sub(r" ([,.:])", r"\1", words)


def post_page(client, session, course, item, attempt, answers, **fields):
    data = {**form_data(session, item, answers), **fields}
    return post_form(client, f"{attempt_url(course, item, attempt.id)}/answers", data)


def taking(client, session, make_quiz, make_user, enrol, source=GIFT, **settings):
    course, item = make_quiz(source, **settings)
    learner = make_user()
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    return course, item, learner, the_attempt(session, learner)


def test_the_quiz_reopens_at_the_page_last_viewed(client, session, make_quiz, make_user, enrol):
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol, layout="one_per_page"
    )
    assert "Page 1 of 5" in text(client.get(item_url(course, item)).get_data(as_text=True))
    assert "Page 2 of 5" in text(client.get(item_url(course, item, 2)).get_data(as_text=True))
    # Opened again without a page: page 2, where the learner was.
    page = text(client.get(item_url(course, item)).get_data(as_text=True))
    assert "Page 2 of 5" in page and "Page 1 of 5" not in page
    assert the_attempt(session, learner).last_page == 2
    # The course page offers to continue there.
    course_page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)"[^>]*>Continue attempt</a>', course_page)
    assert link and link.group(1) == f"{item_url(course, item)}?page=2"
    # Next from page 2 saves and remembers page 3.
    response = post_page(client, session, course, item, attempt, {}, action="next", page="2")
    assert response.status_code == 303
    assert "Page 3 of 5" in text(client.get(item_url(course, item)).get_data(as_text=True))
    # Once submitted, nothing is left to continue.
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    course_page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Continue attempt" not in course_page


def test_continue_attempt_costs_the_course_page_one_query_whatever_the_quizzes(
    client, session, make_quiz, make_user, enrol, count_queries
):
    counts = []
    learner = make_user()
    login(client, learner.email)
    for lessons in (0, 6):
        course, item = make_quiz(lessons=lessons)
        enrol(learner, course)
        start(client, course, item)
        with count_queries() as counter:
            page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
        assert "Continue attempt" in page
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_flags_are_saved_with_the_page_and_shown_on_the_confirmation_page(
    client, session, make_quiz, make_user, enrol
):
    course, item, learner, attempt = taking(client, session, make_quiz, make_user, enrol)
    ids = question_ids(session, item)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert "Flag question 2 for later" in text(page)
    response = post_page(
        client, session, course, item, attempt, {"Capital": "c1", "Colours": ["c1"], "Year": ""},
        flag=[str(ids["Colours"]), str(ids["Year"])], action="save", page="1",
    )  # fmt: skip
    assert response.status_code == 303
    assert the_attempt(session, learner).flagged == [ids["Colours"], ids["Year"]]
    page = text(client.get(item_url(course, item)).get_data(as_text=True))
    assert "Question 2: answered, flagged" in page
    assert "Question 4: not answered, flagged" in page
    assert "Question 1: answered" in page and "Question 1: answered, flagged" not in page
    confirm = text(
        client.get(f"{attempt_url(course, item, attempt.id)}/submit").get_data(as_text=True)
    )
    assert "You flagged 2 questions for later." in confirm
    assert "Question 2 Answered, Flagged" in confirm
    assert "Question 4 Not answered, Flagged" in confirm
    assert "Question 1 Answered Question 2" in confirm
    # Unticked on a page that shows it: the flag comes off.
    post_page(client, session, course, item, attempt, {"Year": ""}, action="save", page="1")
    assert the_attempt(session, learner).flagged == [ids["Colours"]]
    # An answer refused: the flag ticked with it stands, and the page shows it ticked.
    response = post_page(
        client, session, course, item, attempt, {"Year": "1e400"},
        flag=[str(ids["Year"])], action="save", page="1",
    )  # fmt: skip
    assert response.status_code == 422
    assert re.search(rf'id="flag-{ids["Year"]}" value="{ids["Year"]}" checked', response.text)
    assert the_attempt(session, learner).flagged == [ids["Colours"], ids["Year"]]


def test_a_flag_is_saved_in_the_background_and_shown_by_the_api(
    client, session, make_quiz, make_user, enrol, token_for
):
    course, item, learner, attempt = taking(client, session, make_quiz, make_user, enrol)
    ids = question_ids(session, item)
    token = csrf_token(client, item_url(course, item))
    url = f"{attempt_url(course, item, attempt.id)}/flags"
    headers = {"X-CSRFToken": token}
    response = client.put(f"{url}/{ids['River']}", json={"flagged": True}, headers=headers)
    assert response.status_code == 200 and response.get_json() == {"flagged": True}
    assert the_attempt(session, learner).flagged == [ids["River"]]
    assert (
        client.put(f"{url}/{ids['River']}", json={"flagged": "yes"}, headers=headers).status_code
        == 400
    )
    assert client.put(f"{url}/999999", json={"flagged": True}, headers=headers).status_code == 422
    api = client.application.test_client()
    shape = api.get(f"/api/v1/attempts/{attempt.id}", headers=token_for(learner)).get_json()
    assert shape["flagged"] == [ids["River"]]
    response = client.put(f"{url}/{ids['River']}", json={"flagged": False}, headers=headers)
    assert response.get_json() == {"flagged": False}
    assert the_attempt(session, learner).flagged == []
    # Submitted, the attempt's flags no longer change.
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    response = client.put(f"{url}/{ids['River']}", json={"flagged": True}, headers=headers)
    assert response.status_code == 409


def test_negative_marking_is_said_before_answering(client, session, make_quiz, make_user, enrol):
    course, item, learner, attempt = taking(client, session, make_quiz, make_user, enrol)
    page = text(client.get(item_url(course, item)).get_data(as_text=True))
    # Only the multiple-answer question has a negative weight (-100%).
    assert page.count("Wrong answers lose marks") == 1
    colours = page.index("Which of these are colours")
    warning = page.index("Wrong answers lose marks")
    assert colours < warning < page.index("Choose one or more answers to question 2")
    assert "takes away up to 100% of this question's mark" in page


def test_an_essay_shows_its_word_count_and_its_limit(client, session, make_quiz, make_user, enrol):
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol, source=ESSAY
    )
    qid = question_ids(session, item)["Reflect"]

    def count() -> str:
        """The count as quiz.js finds it: hidden until the script shows it and keeps
        it up to date (without JavaScript it could not follow the typing)."""
        page = client.get(item_url(course, item)).get_data(as_text=True)
        found = re.search(rf'<p class="word-count help" id="qw-{qid}"([^>]*)>([^<]*)</p>', page)
        assert found and 'aria-live="polite"' in found.group(1)
        assert re.search(r"\shidden[\s>]", found.group(1) + ">")
        return found.group(2)

    page = client.get(item_url(course, item)).get_data(as_text=True)
    assert count() == "Words: 0"
    # The limit is said in words, without JavaScript too, and the box is described by it.
    assert re.search(rf'<p class="help" id="ql-{qid}">Up to 10,000 characters.</p>', page)
    box = re.search(rf'<textarea name="q{qid}"[^>]*>', page)
    assert box and f"ql-{qid} qw-{qid}" in box.group(0) and 'maxlength="10000"' in box.group(0)
    post_page(client, session, course, item, attempt,
              {"Reflect": "I will  ask\nbefore I assume."}, action="save", page="1")  # fmt: skip
    assert count() == "Words: 6"
    # A dash between words is no word; words in any alphabet are.
    post_page(client, session, course, item, attempt,
              {"Reflect": "Ąžuolas – żółw - blåbær —  ок 2024"}, action="save", page="1")  # fmt: skip
    assert count() == "Words: 5"
    # Without JavaScript the page says nothing of the count, only the limit.
    shown = text(client.get(item_url(course, item)).get_data(as_text=True))
    assert "Words" not in shown and "Up to 10,000 characters." in shown


def test_a_multiple_answer_review_says_each_option_with_its_feedback(
    client, session, make_quiz, make_user, enrol
):
    course, item, learner, attempt = taking(client, session, make_quiz, make_user, enrol)
    post_page(client, session, course, item, attempt, {"Colours": ["c1", "c3"]}, action="save",
              page="1")  # fmt: skip
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    review = text(client.get(attempt_url(course, item, attempt.id)).get_data(as_text=True))
    assert "Yellow: Chosen, correct. Feedback: Yes." in review
    assert "Green: Not chosen, should have been chosen. Feedback: Yes." in review
    assert "Blue: Chosen, should not have been chosen. Feedback: No." in review


def test_the_review_never_shows_a_wildcard_pattern(client, session, make_quiz, make_user, enrol):
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol, source=SHORT
    )
    post_page(client, session, course, item, attempt, {"Process": "respiration"},
              action="save", page="1")  # fmt: skip
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    review = text(client.get(attempt_url(course, item, attempt.id)).get_data(as_text=True))
    assert "Your answer respiration Result Incorrect" in review
    assert (
        "The right answer any answer starting with “photo” or any answer ending with “synthesis”"
        in review
    )
    assert "*" not in review
    # Those words are the learner's language, not the course's: marked so for a reader.
    session.commit()  # end the test's read transaction first
    session.execute(update(Course).where(Course.id == course.id).values(language="lt"))
    session.commit()
    page = client.get(attempt_url(course, item, attempt.id)).get_data(as_text=True)
    assert re.search(r'<dd lang="en">any answer starting with “photo”', page)


def test_the_review_says_number_ranges_in_words(client, session, make_quiz, make_user, enrol):
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol,
        source="::Year::When did Lithuania join the EU?{#=2003..2005 =2004:1}",
    )  # fmt: skip
    post_page(client, session, course, item, attempt, {"Year": "1990"}, action="save", page="1")
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    review = text(client.get(attempt_url(course, item, attempt.id)).get_data(as_text=True))
    assert "The right answer 2003 to 2005 or 2004 ± 1" in review
    assert ".." not in review and "2004:1" not in review


def test_the_trainer_sees_every_option_in_words_too(client, session, make_quiz, make_user, enrol):
    trainer = make_user("trainer")
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol, trainers=[trainer]
    )
    post_page(client, session, course, item, attempt, {"Colours": ["c2", "c3"]}, action="save",
              page="1")  # fmt: skip
    post_form(client, f"{attempt_url(course, item, attempt.id)}/submit")
    staff = client.application.test_client()
    login(staff, trainer.email)
    page = staff.get(f"/trainer/attempts/{attempt.id}").get_data(as_text=True)
    options = re.findall(r'<li class="option-(right|wrong)">(.*?)</li>', page, flags=re.DOTALL)
    assert [(kind, text(body)) for kind, body in options] == [
        ("wrong", "✗ Yellow: Not chosen, should have been chosen. Feedback: Yes."),
        ("right", "✓ Green: Chosen, correct. Feedback: Yes."),
        ("wrong", "✗ Blue: Chosen, should not have been chosen. Feedback: No."),
    ]
    # The marks are drawn, not read out: the words say it all.
    assert page.count('<span class="option-mark" aria-hidden="true">') == 3
    assert "Learner's answer" in text(page)


def test_flags_stay_across_pages_and_when_the_attempt_is_opened_again(
    client, session, make_quiz, make_user, enrol
):
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol, layout="one_per_page"
    )
    ids = question_ids(session, item)
    post_page(client, session, course, item, attempt, {"Capital": "c1"},
              flag=[str(ids["Capital"])], action="next", page="1")  # fmt: skip
    post_page(client, session, course, item, attempt, {"Colours": []},
              flag=[str(ids["Colours"])], action="next", page="2")  # fmt: skip
    # Page 3 posted without its flag: pages 1 and 2 keep theirs.
    post_page(client, session, course, item, attempt, {"Baltic": "true"}, action="next", page="3")
    assert the_attempt(session, learner).flagged == [ids["Capital"], ids["Colours"]]
    # Opened again (a new sign-in): page 4 where the learner was, and both flags in the list.
    assert post_form(client, "/logout", page=item_url(course, item)).status_code in (302, 303)
    login(client, learner.email)
    page = text(client.get(item_url(course, item)).get_data(as_text=True))
    assert "Page 4 of 5" in page
    assert "Question 1: answered, flagged" in page
    assert "Question 2: not answered, flagged" in page
    assert "Question 3: answered Question 4" in page
    # Back on page 1, the box is ticked; unticked there, only that flag comes off.
    first = client.get(item_url(course, item, 1)).get_data(as_text=True)
    assert re.search(rf'id="flag-{ids["Capital"]}" value="{ids["Capital"]}" checked', first)
    post_page(client, session, course, item, attempt, {"Capital": "c1"}, action="save", page="1")
    assert the_attempt(session, learner).flagged == [ids["Colours"]]


def test_a_timed_attempt_resumes_with_the_time_it_had_left(
    client, session, make_quiz, make_user, enrol
):
    course, item, learner, attempt = taking(
        client, session, make_quiz, make_user, enrol, layout="one_per_page", time_limit_minutes=20
    )
    deadline = the_attempt(session, learner).deadline
    assert deadline is not None
    post_page(client, session, course, item, attempt, {"Capital": "c1"}, action="next", page="1")
    assert post_form(client, "/logout", page=item_url(course, item)).status_code in (302, 303)
    login(client, learner.email)
    page = client.get(item_url(course, item)).get_data(as_text=True)
    # The same page, and the same deadline: the clock ran on while the learner was away.
    assert "Page 2 of 5" in text(page)
    assert f'data-deadline="{deadline.isoformat()}"' in page
    assert the_attempt(session, learner).deadline == deadline
