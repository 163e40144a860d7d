"""Issue 18 in the web pages: finding a course (search, language), where a
learner is in a course (position, module, course index, dates, Mark as
complete's message) and the enrolment key (hint, reveal toggle, a refusal
that a refresh does not repeat)."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from vle.learning.models import Enrolment


def test_catalogue_search_folds_and_shows_and_filters_languages(client, session, make_course):
    lodz = make_course(slug="lodz", title="Współpraca w Łódź")
    lodz.language = "pl"
    tromso = make_course(slug="tromso", title="Samarbeid i Tromsø")
    tromso.language = "nb"
    tromso.modules[0].items[0].title = "Kommunale tjenester"
    session.commit()
    page = client.get("/courses").get_data(as_text=True)
    # Each course says its language, in the reader's language.
    assert "Language: Polish" in page and "Language: Norwegian Bokmål" in page
    # The filter is a labelled select offering every course language.
    assert '<label for="language">Course language</label>' in page
    assert '<option value="nb">Norwegian Bokmål</option>' in page

    page = client.get("/courses?q=LODZ").get_data(as_text=True)
    assert "Współpraca w Łódź" in page and "Samarbeid" not in page
    assert "1 course matches “LODZ”." in page
    assert 'value="LODZ"' in page  # the search stays in the field
    page = client.get("/courses?q=tjenester").get_data(as_text=True)  # a lesson's title
    assert "Samarbeid i Tromsø" in page and "Łódź" not in page

    page = client.get("/courses?q=&language=nb").get_data(as_text=True)
    assert "Samarbeid i Tromsø" in page and "Łódź" not in page
    assert '<option value="nb" selected>' in page  # the filter stays chosen
    assert "1 course in Norwegian Bokmål." in page
    assert "No courses found." in client.get("/courses?q=lodz&language=nb").get_data(as_text=True)
    # An unknown language filters nothing; syntax is text: never an error.
    for query in ("language=xx", "q=%25%27%22*%5C", "q=AND%20-x", "q=%E2%80%AE"):
        assert client.get(f"/courses?{query}").status_code == 200, query
    assert "Łódź" in client.get("/courses?language=xx").get_data(as_text=True)


def test_catalogue_in_lithuanian_names_languages_in_lithuanian(client, session, make_course):
    course = make_course(title="Samarbeid")
    course.language = "nb"
    session.commit()
    page = client.get("/courses", headers={"Accept-Language": "lt"}).get_data(as_text=True)
    assert '<html lang="lt">' in page
    assert "Norvegų (bokmål)" in page and "Norwegian Bokmål" not in page


def _enrolled(client, make_course, make_user, **course_args):
    course = make_course(slug="ethics", title="Ethics at work", **course_args)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/ethics/enrol", page="/courses/ethics")
    return course


def test_lesson_page_says_where_the_learner_is(client, make_course, make_user):
    course = _enrolled(client, make_course, make_user, modules=2, lessons=5)
    module = course.modules[1]
    item = module.items[2]  # the 8th of 10
    page = client.get(f"/courses/ethics/items/{item.id}").get_data(as_text=True)
    assert "Lesson 8 of 10" in page
    # Courses › Course › Module › Item
    crumbs = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group(0)
    assert [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>.*?</li>", crumbs)] == [
        "Courses",
        "Ethics at work",
        "Module 2",
        "Lesson 2.3",
    ]
    assert f'href="/courses/ethics#module-{module.id}"' in crumbs
    # The course index: every item, the current one marked, none done yet.
    index = re.search(r'<details class="course-index">.*?</details>', page, re.S).group(0)
    assert "<summary>Course contents</summary>" in index
    assert index.count("/courses/ethics/items/") == 10
    assert re.search(rf'href="/courses/ethics/items/{item.id}"[^>]*aria-current="page"', index)
    assert index.count("(not done)") == 10 and "(done)" not in index


def test_mark_as_complete_says_what_it_did_and_the_index_shows_it(client, make_course, make_user):
    course = _enrolled(client, make_course, make_user, lessons=3)
    first, second, _third = course.modules[0].items
    token = csrf_token(client, f"/courses/ethics/items/{first.id}")
    response = client.post(f"/courses/ethics/items/{first.id}/complete", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith(f"/items/{second.id}")
    page = client.get(response.location).get_data(as_text=True)
    messages = re.search(r'<div class="messages" role="status">.*?</div>', page, re.S).group(0)
    assert "“Lesson 1.1” marked as complete." in messages
    index = re.search(r'<details class="course-index">.*?</details>', page, re.S).group(0)
    assert index.count("(done)") == 1 and index.count("(not done)") == 2
    assert "Lesson 2 of 3" in page


def test_a_trainer_previewing_sees_the_index_without_done_states(client, make_course, make_user):
    trainer = make_user("trainer", email="t@example.org")
    course = make_course(slug="ethics", trainers=[trainer])
    login(client, trainer.email)
    page = client.get(f"/courses/ethics/items/{course.modules[0].items[0].id}").get_data(
        as_text=True
    )
    assert "Course contents" in page and "Lesson 1 of 3" in page
    assert "not done" not in page


def test_course_page_shows_its_dates(client, session, make_course):
    course = make_course(slug="dated")
    course.starts, course.ends = date(2027, 3, 1), date(2027, 6, 30)
    session.commit()
    page = client.get("/courses/dated").get_data(as_text=True)
    assert re.search(r"Runs from 1 Mar(ch)? 2027 to 30 June? 2027\.", page), page
    course.ends = None
    session.commit()
    assert re.search(
        r"Starts on 1 Mar(ch)? 2027\.", client.get("/courses/dated").get_data(as_text=True)
    )
    course.starts, course.ends = None, date(2027, 6, 30)
    session.commit()
    assert re.search(
        r"Ends on 30 June? 2027\.", client.get("/courses/dated").get_data(as_text=True)
    )


def test_enrolment_key_hint_reveal_and_refusal(client, session, make_course, make_user):
    course = make_course(slug="keyed", key="open-sesame")
    course.enrolment_key_hint = "Your trainer gave it in the first e-mail."
    session.commit()
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    page = client.get("/courses/keyed").get_data(as_text=True)
    # A password-type field, the hint as its description.
    assert re.search(
        r'<input[^>]*aria-describedby="key-help"[^>]*type="password"', page
    ) or re.search(r'<input[^>]*type="password"[^>]*aria-describedby="key-help"', page)
    assert '<p class="help" id="key-help">Your trainer gave it in the first e-mail.</p>' in page
    # The reveal toggle: hidden until its script shows it (nothing dead without JavaScript).
    assert '<div class="field-check" hidden>' in page and 'data-reveals="key"' in page
    assert "/static/reveal.js" in page

    response = post_form(client, "/courses/keyed/enrol", {"key": "wrong"}, page="/courses/keyed")
    assert response.status_code == 303 and response.location == "/courses/keyed"
    page = client.get("/courses/keyed").get_data(as_text=True)
    assert 'aria-describedby="key-help key-error"' in page and 'aria-invalid="true"' in page
    assert '<p class="error" id="key-error">The enrolment key is not correct.</p>' in page
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 0
    # A key too long for the field: the same way back, nothing changed.
    response = post_form(client, "/courses/keyed/enrol", {"key": "k" * 101}, page="/courses/keyed")
    assert response.status_code == 303
    assert 'aria-invalid="true"' in client.get("/courses/keyed").get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_a_refusal_on_one_course_is_not_shown_on_another(client, make_course, make_user):
    make_course(slug="keyed", key="open-sesame")
    make_course(slug="other", key="other-key")
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/keyed/enrol", {"key": "wrong"}, page="/courses/keyed")
    assert "not correct" not in client.get("/courses/other").get_data(as_text=True)


def test_a_course_without_a_key_says_why_enrolment_was_refused(
    client, session, make_course, make_user
):
    course = make_course(slug="closed")
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    csrf = csrf_token(client, "/courses/closed")
    course.ends = date(2000, 1, 1)  # ended between showing the form and posting it
    session.commit()
    response = client.post("/courses/closed/enrol", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.location == "/courses/closed"
    page = client.get("/courses/closed").get_data(as_text=True)
    messages = re.search(r'<div class="messages" role="status">.*?</div>', page, re.S).group(0)
    assert "This course is not open for enrolment." in messages
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 0
