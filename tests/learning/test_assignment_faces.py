"""Assigned training through its faces: the Assign page, the API, the command line,
and the mail the assigned person receives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token, login
from tests.learning.test_assignments import enrolment
from tests.learning.test_assignments import world as world  # noqa: F401 - a fixture
from vle.audit import AuditEntry
from vle.learning import services as learning
from vle.learning.models import Assignment, AssignmentMember


def signed_in(client, user):
    client._cookies.clear()  # whoever was signed in before: a new browser
    assert login(client, user.email).status_code == 302
    return client


def assign_form(client, slug, **data):
    token = csrf_token(client, f"/courses/{slug}/assign")
    return client.post(f"/courses/{slug}/assign", data={**data, "csrf_token": token})


# --- the pages ---------------------------------------------------------------------------


def test_the_course_page_links_to_assign_for_its_trainer_and_admins_only(client, world):
    for user, shown in ((world.trainer, True), (world.admin, True), (world.ona, False),
                        (world.teacher, False)):  # fmt: skip
        html = signed_in(client, user).get("/courses/safety").get_data(as_text=True)
        assert ('href="/courses/safety/assign">Assign</a>' in html) is shown, user.email


def test_the_assign_form_by_its_labels(client, world):
    html = signed_in(client, world.trainer).get("/courses/safety/assign").get_data(as_text=True)
    for label, field in (("Organisation", "organisation"), ("Role", "role"),
                         ("Due date", "due"), ("People", "people")):  # fmt: skip
        assert f'<label for="{field}">{label}</label>' in html
    # The trainer chooses among their own subtree only.
    assert 'value="CITY"' in html and 'value="SCHOOL"' in html and 'value="OTHER"' not in html


def test_people_dry_run_then_assign(client, session, world):
    signed_in(client, world.admin)
    response = assign_form(
        client, "safety", people="ona@city.lt\nnobody@city.lt\nolga@other.lt\n",
        role="learner", due="2030-05-01",
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "will be assigned" in html
    assert "refused: no account has this e-mail address" in html
    assert "refused: outside your scope" in html
    assert '<button type="submit" class="primary">Assign</button>' in html
    assert session.scalar(select(Assignment.id)) is None  # the dry run wrote nothing
    # Confirm with what the dry run's form carries.
    token = csrf_token(client, "/courses/safety/assign")
    response = client.post(
        "/courses/safety/assign",
        data={"csrf_token": token, "people": "ona@city.lt", "organisation": "", "role": "learner",
              "due": "2030-05-01", "confirm": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/courses/safety/assignments")
    assert enrolment(session, world.ona, world.course).due == date(2030, 5, 1)
    assert enrolment(session, world.olga, world.course) is None
    listing = client.get("/courses/safety/assignments").get_data(as_text=True)
    assert "1 people by e-mail" in listing and "in force" in listing


def test_people_found_by_a_search_are_chosen(client, session, world):
    signed_in(client, world.admin)
    html = client.get("/courses/safety/assign?q=Ona").get_data(as_text=True)
    assert '<input type="checkbox" name="chosen" id="chosen-1" value="ona@city.lt">' in html
    assert '<label for="chosen-1">Ona Onaitė &lt;ona@city.lt&gt;</label>' in html
    html = client.get("/courses/safety/assign?q=olga").get_data(as_text=True)
    assert "olga@other.lt" not in html and "Nobody in your scope matches" in html
    response = assign_form(client, "safety", chosen="ona@city.lt", role="learner")
    assert response.status_code == 200
    assert "will be assigned" in response.get_data(as_text=True)


def test_a_csv_file_dry_run(client, world):
    from io import BytesIO

    signed_in(client, world.admin)
    token = csrf_token(client, "/courses/safety/assign")
    response = client.post(
        "/courses/safety/assign",
        data={"csrf_token": token, "role": "learner",
              "csv_file": (BytesIO(b"email\nona@city.lt\nona@city.lt\n"), "people.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert "will be assigned" in html and "refused: listed more than once" in html
    bad = client.post(
        "/courses/safety/assign",
        data={"csrf_token": token, "role": "learner",
              "csv_file": (BytesIO("email\nžana@city.lt\n".encode("cp1257")), "people.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert bad.status_code == 422 and "not UTF-8" in bad.get_data(as_text=True)


def test_organisation_dry_run_then_assign(client, session, world):
    signed_in(client, world.admin)
    response = assign_form(client, "safety", organisation="CITY", role="learner")
    html = response.get_data(as_text=True)
    assert "2 people of CITY will be enrolled now" in html
    assert session.scalar(select(Assignment.id)) is None
    token = csrf_token(client, "/courses/safety/assign")
    response = client.post(
        "/courses/safety/assign",
        data={"csrf_token": token, "organisation": "CITY", "role": "learner", "due": "",
              "people": "", "confirm": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    session.commit()
    assert set(session.scalars(select(AssignmentMember.user_id))) == {world.ona.id, world.sam.id}
    assert session.scalar(select(Assignment.status)) == "done"


def test_bad_input_is_a_form_error(client, world):
    signed_in(client, world.admin)
    for data, message in (
        ({"role": "learner"}, "Choose an organisation or list the people to assign."),
        ({"organisation": "CITY", "people": "ona@city.lt", "role": "learner"}, "not both"),
        ({"people": "ona@city.lt", "role": "learner", "due": "31/12/2030"}, "is not a date"),
        ({"people": "ona@city.lt", "role": "learner", "due": "9999-12-31"}, "9999-12-31"),
        ({"organisation": "NOPE", "role": "learner"}, "no organisation with the code"),
    ):
        response = assign_form(client, "safety", **data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    # Without a CSRF token: refused.
    assert client.post("/courses/safety/assign", data={"people": "ona@city.lt"}).status_code == 400


def test_permissions_on_every_route(client, session, world):
    assignment = Assignment(course_id=world.course.id, status="done", assigned=0, refused=[])
    session.add(assignment)
    session.commit()
    routes = [
        ("get", "/courses/safety/assign"),
        ("get", "/courses/safety/assignments"),
        ("post", "/courses/safety/assign"),
        ("post", f"/courses/safety/assignments/{assignment.id}/withdraw"),
        ("get", f"/courses/safety/assignments/{assignment.id}"),
        ("post", f"/courses/safety/participants/{world.ona.id}/unenrol"),
    ]
    for user in (world.ona, world.teacher):  # a learner; a trainer of other courses
        signed_in(client, user)
        token = csrf_token(client, "/courses")
        for method, path in routes:
            response = getattr(client, method)(path, data={"csrf_token": token})
            assert response.status_code == 403, (user.email, path)
    client._cookies.clear()
    assert client.get("/courses/safety/assign").status_code == 302  # to the sign-in page
    # An administrator assigning outside their scope.
    signed_in(client, world.admin)
    token = csrf_token(client, "/courses/safety/assign")
    response = client.post(
        "/courses/safety/assign",
        data={"csrf_token": token, "organisation": "OTHER", "role": "learner", "confirm": "1"},
    )
    assert response.status_code == 403
    # The course's trainer may.
    signed_in(client, world.trainer)
    assert client.get("/courses/safety/assign").status_code == 200
    assert client.get("/courses/safety/assignments").status_code == 200


def test_the_list_is_a_fixed_number_of_queries(client, session, world, count_queries):
    signed_in(client, world.admin)
    assign_form(client, "safety", people="ona@city.lt", role="learner", confirm="1")
    assign_form(client, "safety", organisation="SCHOOL", role="learner", confirm="1")
    with count_queries() as few:
        assert client.get("/courses/safety/assignments").status_code == 200
    for _ in range(5):
        assign_form(client, "safety", organisation="SCHOOL", role="trainer", confirm="1")
        assign_form(client, "safety", organisation="CITY", role="any", confirm="1")
    with count_queries() as many:
        assert client.get("/courses/safety/assignments").status_code == 200
    assert many.count == few.count


def test_withdraw_from_the_list(client, session, world):
    signed_in(client, world.trainer)
    assign_form(client, "safety", people="ona@city.lt", role="learner", confirm="1")
    assignment_id = session.scalar(select(Assignment.id))
    token = csrf_token(client, "/courses/safety/assignments")
    response = client.post(
        f"/courses/safety/assignments/{assignment_id}/withdraw", data={"csrf_token": token}
    )
    assert response.status_code == 302
    session.commit()
    assert session.get(Assignment, assignment_id).withdrawn_at is not None
    assert enrolment(session, world.ona, world.course).ended_at is None  # enrolment kept
    assert "withdrawn on" in client.get("/courses/safety/assignments").get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "assignment.withdraw"))


def test_the_people_of_an_assignment_and_unenrolling(client, session, world, make_org, make_user):
    signed_in(client, world.admin)
    assign_form(client, "safety", organisation="CITY", role="learner", confirm="1")
    assignment_id = session.scalar(select(Assignment.id))
    html = client.get(f"/courses/safety/assignments/{assignment_id}").get_data(as_text=True)
    assert "ona@city.lt" in html and "sam@school.lt" in html and "Not started" in html
    token = csrf_token(client, f"/courses/safety/assignments/{assignment_id}")
    response = client.post(
        f"/courses/safety/participants/{world.sam.id}/unenrol",
        data={"csrf_token": token, "assignment": assignment_id},
    )
    assert response.status_code == 302
    e = enrolment(session, world.sam, world.course)
    assert e is not None and e.ended_at is not None  # the row stays
    html = client.get(f"/courses/safety/assignments/{assignment_id}").get_data(as_text=True)
    assert "unenrolled on" in html
    # Unenrolling again, or someone not enrolled: 404; someone outside one's scope: 403.
    again = client.post(
        f"/courses/safety/participants/{world.sam.id}/unenrol", data={"csrf_token": token}
    )
    assert again.status_code == 404

    learning.enrol(session, world.olga, world.course)
    session.commit()
    outside = client.post(
        f"/courses/safety/participants/{world.olga.id}/unenrol", data={"csrf_token": token}
    )
    assert outside.status_code == 403
    assert enrolment(session, world.olga, world.course).ended_at is None


def test_my_learning_shows_the_due_date_and_overdue(client, session, world):
    signed_in(client, world.admin)
    past = (date.today() - timedelta(days=2)).isoformat()
    assign_form(client, "safety", people="ona@city.lt", role="learner", due=past, confirm="1")
    signed_in(client, world.ona)
    html = client.get("/my").get_data(as_text=True)
    assert "<strong>Overdue</strong>" in html
    assert "Overdue" in client.get("/courses/safety").get_data(as_text=True)


# --- the API -----------------------------------------------------------------------------


def test_api_assigns_people_and_shows_progress(client, session, world, token_for):
    headers = token_for(world.admin)
    response = client.post(
        "/api/v1/courses/safety/assignments",
        json={"users": ["ona@city.lt", "nobody@city.lt", "olga@other.lt"], "due": "2030-01-31"},
        headers=headers,
    )
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["assigned"]) == ("done", 1)
    assert body["refused"] == [
        {"email": "nobody@city.lt", "reason": "unknown"},
        {"email": "olga@other.lt", "reason": "out_of_scope"},
    ]
    again = client.get(f"/api/v1/assignments/{body['id']}", headers=headers)
    assert again.status_code == 200 and again.get_json() == body
    mine = client.get("/api/v1/me/enrolments", headers=token_for(world.ona)).get_json()
    assert mine["enrolments"][0]["due"] == "2030-01-31"
    assert mine["enrolments"][0]["overdue"] is False


def test_api_assigns_an_organisation(client, session, world, token_for):
    response = client.post(
        "/api/v1/courses/safety/assignments",
        json={"organisation": "SCHOOL", "role": None},
        headers=token_for(world.trainer),
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] in ("queued", "running", "done")
    progress = client.get(f"/api/v1/assignments/{body['id']}", headers=token_for(world.trainer))
    assert (progress.get_json()["status"], progress.get_json()["assigned"]) == ("done", 2)


def test_api_refuses(client, session, world, token_for):
    url = "/api/v1/courses/safety/assignments"
    admin = token_for(world.admin)
    # Outside one's scope, or not allowed at all: 403.
    assert client.post(url, json={"organisation": "OTHER"}, headers=admin).status_code == 403
    learner = token_for(world.ona)
    assert client.post(url, json={"users": ["ona@city.lt"]}, headers=learner).status_code == 403
    # A bad body: 422, nothing written.
    for body in (
        {},
        {"users": []},
        {"users": "ona@city.lt"},
        {"users": [1]},
        {"users": ["ona@city.lt"], "organisation": "CITY"},
        {"users": ["ona@city.lt"], "role": "learner"},
        {"organisation": "CITY", "role": "boss"},
        {"organisation": "NOPE"},
        {"organisation": "CITY", "due": "tomorrow"},
        {"organisation": "CITY", "due": 5},
        {"users": ["olga@other.lt"]},
        {"usrs": ["ona@city.lt"]},
    ):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["message"]
    assert session.scalar(select(Assignment.id)) is None
    assert client.post(url, data="nope", headers=admin).status_code == 400
    # Someone else's assignment, or none: 404.
    assert client.get("/api/v1/assignments/999", headers=admin).status_code == 404


def test_api_documents_the_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "post" in document["paths"]["/api/v1/courses/{slug}/assignments"]
    assert "get" in document["paths"]["/api/v1/assignments/{id}"]
    assert {"due", "overdue"} <= set(document["components"]["schemas"]["Enrolment"]["required"])


# --- the command line --------------------------------------------------------------------


def test_cli_assigns_a_users_file(runner, session, world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("email\nona@city.lt\nnobody@city.lt\n", encoding="utf-8")
    dry = runner.invoke(["courses", "assign", "safety", "--users", str(path)])
    assert dry.exit_code == 1  # a refused line
    assert "line 2: assign ona@city.lt" in dry.output
    assert "line 3: refused — no account has this e-mail address nobody@city.lt" in dry.output
    assert "Nothing was written" in dry.output
    assert session.scalar(select(Assignment.id)) is None
    done = runner.invoke(
        ["courses", "assign", "safety", "--users", str(path), "--due", "2020-01-01", "--commit"]
    )
    assert "Assigned 1" in done.output
    e = enrolment(session, world.ona, world.course)
    assert e.due == date(2020, 1, 1) and e.is_overdue(date.today())


def test_cli_assigns_an_organisation(runner, session, world):
    dry = runner.invoke(["courses", "assign", "safety", "--organisation", "CITY"])
    assert dry.exit_code == 0 and "Dry run: 2 people of CITY" in dry.output
    done = runner.invoke(
        ["courses", "assign", "safety", "--organisation", "CITY", "--role", "any", "--commit"]
    )
    assert done.exit_code == 0, done.output
    assert "done, 5 assigned" in done.output  # everyone of CITY and SCHOOL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--organisation", "CITY"], "There is no course 'nope'."),
        (["safety"], "Give either --organisation CODE or --users FILE.csv."),
        (["safety", "--organisation", "NOPE"], "no organisation with the code"),
        (["safety", "--organisation", "CITY", "--role", "boss"], "Unknown role"),
        (["safety", "--organisation", "CITY", "--due", "soon"], "is not a date"),
        (["safety", "--users", "/nonexistent.csv"], "Cannot read /nonexistent.csv"),
    ],
)
def test_cli_errors_are_one_line(runner, world, args, message):
    result = runner.invoke(["courses", "assign", *args])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


def test_cli_refuses_a_file_in_another_encoding(runner, world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes("email\nžana@city.lt\n".encode("cp1257"))
    result = runner.invoke(["courses", "assign", "safety", "--users", str(path)])
    assert result.exit_code == 1 and "not UTF-8" in result.output


# --- the mail ----------------------------------------------------------------------------


def test_the_assigned_person_receives_a_mail_in_their_language(
    client, session, world, smtp_server, token_for
):
    world.ona.locale = "lt"
    session.commit()
    response = client.post(
        "/api/v1/courses/safety/assignments",
        json={"users": ["ona@city.lt", "sam@school.lt"], "due": "2030-03-15"},
        headers=token_for(world.admin),
    )
    assert response.status_code == 202
    messages = smtp_server.wait_for(2)
    by_address = {str(m["To"]): m for m in messages}
    ona = next(m for to, m in by_address.items() if "ona@city.lt" in to)
    sam = next(m for to, m in by_address.items() if "sam@school.lt" in to)
    english = sam.get_body(("plain",)).get_content()
    assert world.course.title in sam["Subject"]
    assert "http://" in english and "/courses/safety" in english
    assert "You are assigned the course" in english and "March" in english
    assert ona["List-Unsubscribe"]  # a notification
    lithuanian = ona.get_body(("plain",)).get_content()
    assert "/courses/safety" in lithuanian
    assert "kovo 15" in lithuanian  # the due date in Lithuanian
    assert ona.get_body(("html",)).get_content().count("/courses/safety") >= 1
