"""Issue 18 in the web pages: finding a course (search, language), where a
learner is in a course (position, module, course index, dates, Mark as
complete's message) and the enrolment key (hint, reveal toggle, a refusal
that a refresh does not repeat)."""

from __future__ import annotations

import re
import time
from datetime import date

from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from vle.learning import services as learning
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
    messages = re.search(r'<div class="messages" role="status"[^>]*>.*?</div>', page, re.S).group(0)
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
    # In the course's language, as the trainer wrote it.
    assert (
        '<p class="help" id="key-help"><span lang="en">Your trainer gave it in the first e-mail.'
        "</span></p>" in page
    )
    # The reveal toggle: hidden until its script shows it (nothing dead without JavaScript).
    assert '<div class="field-check" hidden>' in page and 'data-reveals="key"' in page
    assert "/static/reveal.js" in page

    response = post_form(client, "/courses/keyed/enrol", {"key": "wrong"}, page="/courses/keyed")
    assert response.status_code == 303 and response.location == "/courses/keyed"
    page = client.get("/courses/keyed").get_data(as_text=True)
    assert 'aria-describedby="key-help key-error"' in page and 'aria-invalid="true"' in page
    assert '<p class="error" id="key-error">The enrolment key is not correct.</p>' in page
    # The summary above the form leads to the field.
    assert '<a href="#key">Enrolment key: The enrolment key is not correct.</a>' in page
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
    messages = re.search(r'<div class="messages" role="status"[^>]*>.*?</div>', page, re.S).group(0)
    assert "This course is not open for enrolment." in messages
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_catalogue_pages_keep_the_search_and_the_language(client, session, make_course):
    """25 Polish courses matching "łódź" among others: 20 a page, the pager's links
    keep both the search and the filter, and the count is of all of them."""
    for n in range(25):
        course = make_course(slug=f"lodz-{n:02d}", title=f"Łódź {n:02d}")
        course.language = "pl"
    for n in range(3):
        other = make_course(slug=f"oslo-{n}", title=f"Łódź in Norwegian {n}")
        other.language = "nb"
    session.commit()
    page = client.get("/courses?q=LODZ&language=pl").get_data(as_text=True)
    assert "25 courses in Polish match “LODZ”." in page
    assert page.count('<li class="card">') == 20 and "Norwegian 0" not in page
    assert "Page 1 of 2" in page
    pager = re.search(r'<nav class="pager" aria-label="Pages">.*?</nav>', page, re.S).group(0)
    assert re.search(r'href="/courses\?(?=[^"]*page=2)(?=[^"]*q=LODZ)(?=[^"]*language=pl)', pager)
    page = client.get("/courses?q=LODZ&language=pl&page=2").get_data(as_text=True)
    assert page.count('<li class="card">') == 5 and "Łódź 24" in page and "Łódź 00" not in page
    assert "25 courses in Polish match “LODZ”." in page and "Page 2 of 2" in page
    assert 'rel="prev"' in page and 'rel="next"' not in page
    # A page that is not one: never an error.
    for odd in ("abc", "-3", "0", "99", "1" + "0" * 30):
        response = client.get(f"/courses?language=pl&page={odd}")
        assert response.status_code == 200, odd
    # Few courses: no pager at all.
    page = client.get("/courses?language=nb").get_data(as_text=True)
    assert "3 courses in Norwegian Bokmål." in page and 'aria-label="Pages"' not in page


def test_the_api_catalogue_searches_and_filters_as_the_page_does(
    client, session, make_course, make_user, token_for
):
    lodz = make_course(slug="lodz", title="Współpraca w Łódź")
    lodz.language = "pl"
    tromso = make_course(slug="tromso", title="Samarbeid i Tromsø")
    tromso.language = "nb"
    tromso.modules[0].items[1].title = "Kommunale tjenester"
    session.commit()
    headers = token_for(make_user())

    def slugs(query):
        response = client.get(f"/api/v1/courses?{query}", headers=headers)
        assert response.status_code == 200, query
        return [course["slug"] for course in response.get_json()["courses"]]

    assert slugs("q=LODZ") == ["lodz"] and slugs("q=tromso") == ["tromso"]
    assert slugs("q=TROMS%C3%98") == ["tromso"]
    assert slugs("q=tjenester") == ["tromso"]  # a lesson's title
    assert slugs("q=%25") == [] and slugs("q=_") == [] and slugs("q=%27%20OR%201%3D1") == []
    assert slugs("language=pl") == ["lodz"] and slugs("q=tromso&language=pl") == []
    assert client.get("/api/v1/courses?language=", headers=headers).status_code == 422
    response = client.get("/api/v1/courses?language=xx", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "“language” must be one of: en, lt, pl, nb."


def test_contents_are_numbered_across_modules_as_the_position_counts(
    client, make_course, make_user
):
    """Module 2's first item is the 4th: the course page, the course index and
    "Lesson 4 of 6" all say so."""
    course = _enrolled(client, make_course, make_user, modules=2, lessons=3)
    item = course.modules[1].items[0]
    page = client.get("/courses/ethics").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'<ol class="items" start="(\d+)">', page)] == [1, 4]
    page = client.get(f"/courses/ethics/items/{item.id}").get_data(as_text=True)
    assert "Lesson 4 of 6" in page
    index = re.search(r'<details class="course-index">.*?</details>', page, re.S).group(0)
    assert [int(n) for n in re.findall(r'<ol start="(\d+)">', index)] == [1, 4]


def test_mark_as_complete_names_the_next_item_and_the_last_one_says_so(
    client, make_course, make_user
):
    course = _enrolled(client, make_course, make_user, lessons=2)
    first, last = course.modules[0].items
    response = post_form(
        client,
        f"/courses/ethics/items/{first.id}/complete",
        page=f"/courses/ethics/items/{first.id}",
    )
    page = client.get(response.location).get_data(as_text=True)
    assert "“Lesson 1.1” marked as complete. Next: “Lesson 1.2”." in page
    response = post_form(
        client, f"/courses/ethics/items/{last.id}/complete", page=f"/courses/ethics/items/{last.id}"
    )
    assert response.location == "/courses/ethics"  # the last item: back to the course page
    page = client.get(response.location).get_data(as_text=True)
    messages = re.search(r'<div class="messages" role="status"[^>]*>.*?</div>', page, re.S).group(0)
    assert "“Lesson 1.2” marked as complete." in messages and "Next:" not in messages
    assert "Well done: you have completed Ethics at work." in messages


def test_enrolment_keys_cannot_be_guessed_by_trying_many(client, session, make_course, make_user):
    """Ten tries a minute by one account; the eleventh is refused unchecked,
    the right key too, with the message on the field; a minute or two later
    the account may try again."""
    make_course(slug="keyed", key="open-sesame")
    user = make_user(email="ona@example.org")
    login(client, "ona@example.org")
    for n in range(10):
        response = post_form(
            client, "/courses/keyed/enrol", {"key": f"guess-{n}"}, "/courses/keyed"
        )
        assert response.status_code == 303
        assert "The enrolment key is not correct." in client.get("/courses/keyed").get_data(
            as_text=True
        )
    response = post_form(client, "/courses/keyed/enrol", {"key": "open-sesame"}, "/courses/keyed")
    assert response.status_code == 303 and response.location == "/courses/keyed"
    page = client.get("/courses/keyed").get_data(as_text=True)
    assert (
        '<p class="error" id="key-error">Too many enrolment keys tried. '
        "Please wait a minute and try again.</p>" in page
    )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 0
    # Another account at the same address is not held back (a training room).
    assert learning.reserve_key_try(session, make_user(), "127.0.0.1", now=time.time())
    assert not learning.reserve_key_try(session, user, "127.0.0.1", now=time.time())
    # The count is per minute (sliding): two minutes on, tries are taken again.
    assert learning.reserve_key_try(session, user, "127.0.0.1", now=time.time() + 125)
    session.rollback()


def test_the_api_counts_key_tries_too(client, session, make_course, make_user, token_for):
    make_course(slug="keyed", key="open-sesame")
    make_course(slug="open")
    headers = token_for(make_user())
    for n in range(10):
        response = client.post(
            "/api/v1/courses/keyed/enrolments", json={"key": f"guess-{n}"}, headers=headers
        )
        assert response.status_code == 422
    response = client.post(
        "/api/v1/courses/keyed/enrolments", json={"key": "open-sesame"}, headers=headers
    )
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_requests"
    # A course without a key asks for none, and is not held back.
    assert (
        client.post("/api/v1/courses/open/enrolments", json={}, headers=headers).status_code == 201
    )


def test_course_page_names_each_item_by_its_kind(client, session, make_course):
    course = make_course(slug="kinds", lessons=3)
    course.modules[0].items[1].kind = "link"
    course.modules[0].items[2].kind = "file"
    session.commit()
    page = client.get("/courses/kinds").get_data(as_text=True)
    kinds = [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'<span class="meta">(.*?)</span>', page, re.S)
    ]
    assert [k.split(",")[0] for k in kinds] == ["Lesson", "Link", "File"]
