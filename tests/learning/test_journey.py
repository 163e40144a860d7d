"""The learner's journey in the web UI: catalogue → course → enrol → lessons → My learning."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from vle.learning.models import Completion, Enrolment


def test_catalogue_lists_published_courses_and_searches_titles(client, make_course):
    make_course(title="Anti-corruption basics")
    make_course(title="Social clustering")
    make_course(title="Secret draft", status="draft")
    make_course(title="Old archived course", status="archived")
    html = client.get("/courses").get_data(as_text=True)
    assert "Anti-corruption basics" in html and "Social clustering" in html
    assert "Secret draft" not in html and "Old archived course" not in html
    html = client.get("/courses?q=CORRUPTION").get_data(as_text=True)
    assert "Anti-corruption basics" in html and "Social clustering" not in html
    # LIKE wildcards are searched for literally.
    assert "Anti-corruption" not in client.get("/courses?q=%25").get_data(as_text=True)


def test_draft_course_does_not_exist_for_learners(client, make_course, make_user):
    trainer = make_user("trainer")
    course = make_course(slug="draft-course", status="draft", trainers=[trainer])
    item = course.modules[0].items[0]
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    assert client.get("/courses/draft-course").status_code == 404
    assert client.get(f"/courses/draft-course/items/{item.id}").status_code == 404
    assert post_form(client, "/courses/draft-course/enrol").status_code == 404
    # Its trainer sees it.
    trainer_client = client.application.test_client()
    login(trainer_client, trainer.email)
    assert trainer_client.get("/courses/draft-course").status_code == 200


def test_unknown_course_and_item_are_404(client, make_course, make_user):
    course = make_course(slug="c1")
    other = make_course(slug="c2")
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    assert client.get("/courses/nope").status_code == 404
    post_form(client, "/courses/c1/enrol")
    # An item of another course under this course's URL does not exist.
    assert client.get(f"/courses/c1/items/{other.modules[0].items[0].id}").status_code == 404
    assert client.get(f"/courses/c1/items/{course.modules[0].items[0].id}").status_code == 200


def test_enrol_complete_every_lesson_and_see_100_percent(client, make_course, make_user, session):
    course = make_course(slug="ethics", title="Ethics at work", lessons=3)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    page = client.get("/courses/ethics").get_data(as_text=True)
    assert ">Enrol<" in page
    assert "Enrolment key" not in page
    response = post_form(client, "/courses/ethics/enrol", page="/courses/ethics")
    assert response.status_code == 302
    assert "You are enrolled" in client.get("/courses/ethics").get_data(as_text=True)
    items = course.modules[0].items
    first = client.get(f"/courses/ethics/items/{items[0].id}").get_data(as_text=True)
    assert "Mark as complete" in first
    assert "<strong>useful</strong>" in first
    assert f"/courses/ethics/items/{items[1].id}" in first  # next
    assert "0%" in client.get("/my").get_data(as_text=True)
    for item in items:
        token = csrf_token(client, f"/courses/ethics/items/{item.id}")
        response = client.post(
            f"/courses/ethics/items/{item.id}/complete", data={"csrf_token": token}
        )
        assert response.status_code == 302
    my = client.get("/my").get_data(as_text=True)
    assert "100%" in my and "Completed on" in my
    enrolment = session.scalar(select(Enrolment))
    session.refresh(enrolment)
    assert enrolment.status == "completed" and enrolment.completed_at is not None
    assert session.scalar(select(func.count()).select_from(Completion)) == 1


def test_well_done_once_when_the_course_is_completed_not_on_every_later_mark(
    client, make_course, make_user
):
    course = make_course(slug="ethics", title="Ethics at work", lessons=2)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/ethics/enrol")
    first, last = (item.id for item in course.modules[0].items)
    said = []
    for item_id in (first, last, first):
        token = csrf_token(client, f"/courses/ethics/items/{item_id}")
        client.post(f"/courses/ethics/items/{item_id}/complete", data={"csrf_token": token})
        said.append(
            "Well done: you have completed Ethics at work."
            in client.get("/courses/ethics").get_data(as_text=True)
        )
    assert said == [False, True, False]


def test_marking_complete_without_the_csrf_token_is_refused_and_changes_nothing(
    client, make_course, make_user
):
    course = make_course(slug="ethics", lessons=2)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/ethics/enrol")
    item_id = course.modules[0].items[0].id
    for data in ({}, {"csrf_token": "forged"}):
        assert (
            client.post(f"/courses/ethics/items/{item_id}/complete", data=data).status_code == 400
        )
    assert (
        "Completed" not in client.get("/courses/ethics").get_data(as_text=True).split("Contents")[1]
    )


def test_previous_and_next_navigation(client, make_course, make_user):
    course = make_course(slug="nav", lessons=2, modules=2)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/nav/enrol")
    items = course.items
    middle = client.get(f"/courses/nav/items/{items[1].id}").get_data(as_text=True)
    assert f'rel="prev" href="/courses/nav/items/{items[0].id}"' in middle
    assert f'rel="next" href="/courses/nav/items/{items[2].id}"' in middle  # across modules
    last = client.get(f"/courses/nav/items/{items[-1].id}").get_data(as_text=True)
    assert 'rel="next"' not in last


def test_enrolment_key(client, make_course, make_user, session):
    make_course(slug="keyed", key="open-sesame")
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    page = client.get("/courses/keyed").get_data(as_text=True)
    assert "Enrolment key" in page
    response = post_form(client, "/courses/keyed/enrol", {"key": "wrong"})
    # Back to the course page (a refresh repeats no POST), the error on the field.
    assert response.status_code == 303 and response.location == "/courses/keyed"
    page = client.get("/courses/keyed").get_data(as_text=True)
    assert "The enrolment key is not correct." in page
    assert 'role="alert"' in page  # announced to screen readers
    assert 'aria-invalid="true"' in page
    # Said once: the next visit is a fresh form.
    assert "The enrolment key is not correct." not in client.get("/courses/keyed").get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 0
    assert post_form(client, "/courses/keyed/enrol", {"key": "open-sesame"}).status_code == 302
    session.rollback()  # end the read snapshot taken above
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 1


def test_enrolling_twice_keeps_one_enrolment(client, make_course, make_user, session):
    make_course(slug="twice")
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/twice/enrol")
    post_form(client, "/courses/twice/enrol")
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 1


def test_completing_without_enrolment_is_forbidden(client, make_course, make_user, session):
    course = make_course(slug="c")
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    item = course.modules[0].items[0]
    response = post_form(client, f"/courses/c/items/{item.id}/complete")
    assert response.status_code == 403
    # Items are for enrolled learners: the page sends them to enrol.
    assert client.get(f"/courses/c/items/{item.id}").status_code == 302


def test_items_need_sign_in(client, make_course):
    course = make_course(slug="c")
    response = client.get(f"/courses/c/items/{course.modules[0].items[0].id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "Log in to enrol" in client.get("/courses/c").get_data(as_text=True)


def test_optional_items_do_not_hold_back_completion(client, make_course, make_user, session):
    course = make_course(slug="c", lessons=1, optional=1)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/c/enrol")
    required = course.modules[0].items[0]
    post_form(client, f"/courses/c/items/{required.id}/complete")
    enrolment = session.scalar(select(Enrolment))
    session.refresh(enrolment)
    assert enrolment.status == "completed" and enrolment.progress == 100


def test_hostile_lesson_html_is_stripped_and_page_renders(client, make_course, make_user):
    body = (
        'Hello <script>alert("x")</script> <img src="x" onerror="alert(1)"> '
        '<a href="javascript:alert(2)">click</a> [md](javascript:alert(3))'
    )
    course = make_course(slug="c", body=body)
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    post_form(client, "/courses/c/enrol")
    page = client.get(f"/courses/c/items/{course.modules[0].items[0].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in html
    assert "onerror" not in html
    assert "javascript:" not in html


def test_course_page_query_count_does_not_grow_with_content(
    client, make_course, make_user, count_queries
):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    counts = []
    for slug, modules, lessons in (("small", 1, 2), ("large", 6, 10)):
        make_course(slug=slug, modules=modules, lessons=lessons)
        post_form(client, f"/courses/{slug}/enrol")
        with count_queries() as counter:
            assert client.get(f"/courses/{slug}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_my_learning_query_count_does_not_grow_with_enrolments(
    client, make_course, make_user, count_queries
):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    counts = []
    for batch in range(2):
        for n in range(1 + batch * 9):
            slug = f"c-{batch}-{n}"
            make_course(slug=slug)
            post_form(client, f"/courses/{slug}/enrol")
        with count_queries() as counter:
            assert client.get("/my").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_lesson_page_and_completion_query_counts_do_not_grow_with_content(
    client, session, make_course, make_user, count_queries
):
    from vle.catalog.models import Course

    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    views, completions = [], []
    for slug, modules, lessons in (("small", 1, 3), ("large", 6, 10)):
        make_course(slug=slug, modules=modules, lessons=lessons)
        post_form(client, f"/courses/{slug}/enrol")
        session.rollback()
        course = session.scalar(select(Course).where(Course.slug == slug))
        first, second = course.items[0].id, course.items[1].id
        session.rollback()  # end the read, as the app writes meanwhile
        client.get(f"/courses/{slug}/items/{first}")  # the first view writes; later ones read
        with count_queries() as counter:
            assert client.get(f"/courses/{slug}/items/{first}").status_code == 200
        views.append(counter.count)
        token = csrf_token(client, "/courses")
        with count_queries() as counter:
            response = client.post(
                f"/courses/{slug}/items/{second}/complete", data={"csrf_token": token}
            )
            assert response.status_code == 302
        completions.append(counter.count)
    assert views[0] == views[1]
    assert completions[0] == completions[1]
