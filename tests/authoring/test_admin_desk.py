"""An administrator who teaches nothing has a desk at /trainer/: the courses
where their scope holds learners, with those learners' counts, each leading to
the course's page that AnswerScope has always opened to them (read-only for a
scoped administrator). The navigation offers it; to someone with nothing to
follow, it does not."""

from __future__ import annotations

import re

from tests.authoring.test_trainer_desk import desk as desk  # noqa: F401 - a fixture
from tests.conftest import login, post_form
from vle.authoring import services
from vle.catalog.models import Course


def nav_of(page):
    return page.split('<nav aria-label="Main">')[1].split("</nav>")[0]


def row_numbers(page, title):
    row = page.split(title)[1].split("</tr>")[0]
    return [re.sub(r"<[^>]+>", "", cell.split("</td>")[0]).strip()
            for cell in row.split('class="number">')[1:]]  # fmt: skip


def test_a_scoped_administrator_follows_their_learners_courses(client, session, desk, make_user):
    south_admin = make_user("admin", org=desk["south"], email="south-admin@example.org")
    login(client, south_admin.email)
    assert 'href="/trainer/">My courses' in nav_of(client.get("/my").get_data(as_text=True))

    response = client.get("/trainer/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You do not teach any course yet." not in page
    assert "Courses with learners you administer" in page
    # Bob and Cid (South) take the course; Cid is overdue. Ann (North) is not counted,
    # and the other course, which only Ann takes, is not listed.
    title = desk["course"].title
    assert row_numbers(page, title) == ["2", "0", "1"]
    assert desk["other_course"].title not in page
    assert f'href="/trainer/courses/{desk["course"].slug}"' in page

    # The course's page: South's learners only, and no change allowed.
    course_page = client.get(f"/trainer/courses/{desk['course'].slug}").get_data(as_text=True)
    assert "Cid Carter" in course_page and "Ann Adams" not in course_page
    data = {"learner": str(desk["cid"].id), "reason": "Was there"}
    response = post_form(client, f"/trainer/courses/{desk['course'].slug}/complete", data)
    assert response.status_code == 403


def test_counts_are_a_fixed_number_of_queries(session, desk, make_user, count_queries):
    south_admin = make_user("admin", org=desk["south"])
    today = services.utcnow().date()
    assert south_admin.organisation.path  # loaded, as the signed-in user's is
    with count_queries() as counted:
        lines = services.followed_courses(session, south_admin, today)
    assert [line.course.slug for line in lines] == [desk["course"].slug]
    assert counted.count == 3


def test_a_draft_is_not_followed_by_a_scoped_administrator(client, session, desk, make_user):
    session.execute(
        Course.__table__.update().where(Course.id == desk["course"].id).values(status="draft")
    )
    session.commit()
    south_admin = make_user("admin", org=desk["south"])
    login(client, south_admin.email)
    page = client.get("/trainer/").get_data(as_text=True)
    assert desk["course"].title not in page
    assert "You do not teach any course yet." in page
    # My courses stays in the navigation: it is where they create a course.
    assert 'href="/trainer/"' in nav_of(page)


def test_an_administrator_with_nobody_to_follow_follows_no_course(
    client, session, desk, make_user, make_org
):
    elsewhere = make_user("admin", org=make_org(code="elsewhere", name="Elsewhere"))
    login(client, elsewhere.email)
    page = client.get("/trainer/").get_data(as_text=True)
    assert 'href="/trainer/"' in nav_of(page)  # to create a course
    assert "You do not teach any course yet." in page
    assert "Courses with learners you administer" not in page
    assert client.get(f"/trainer/courses/{desk['course'].slug}").status_code == 403


def test_a_network_administrator_follows_every_course_with_learners(
    client, session, desk, make_user
):
    network = make_user("admin", org=desk["north"], network=True)
    login(client, network.email)
    page = client.get("/trainer/").get_data(as_text=True)
    assert 'href="/trainer/" aria-current="page">My courses' in nav_of(page)
    assert row_numbers(page, desk["course"].title)[0] == "3"
    assert row_numbers(page, desk["other_course"].title)[0] == "1"
