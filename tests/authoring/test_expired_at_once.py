"""A completion past its validity counts as expired the moment it passes, on
every page that reads a status, not only after the daily task
(learning/expiry.py) has started the enrolment over: the dashboard, the
trainer's grid (and its filter and download), the completion report, the API,
the course's assignments, an account's data export. One rule for all of them:
learning.services.shown_status_column."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import login, post_form
from vle.learning import assignments
from vle.learning import services as learning
from vle.learning.models import Enrolment
from vle.reports import services as reports

T0 = datetime(2025, 1, 31, 9, 30, tzinfo=UTC)  # completed; valid 12 months: expired by now


@pytest.fixture
def world(app, session, make_org, make_user, make_course):
    org = make_org("CITY", name="City")
    trainer = make_user("trainer", org=org, email="tess@example.org", name="Tess Trainer")
    admin = make_user(role="admin", org=org, email="boss@example.org", network=True)
    ona = make_user(org=org, email="ona@example.org", name="Ona Old")
    val = make_user(org=org, email="val@example.org", name="Val Valid")
    sam = make_user(org=org, email="sam@example.org", name="Sam Started")
    course = make_course(
        slug="fire-safety", title="Fire safety", lessons=2, validity_months=12, trainers=[trainer]
    )
    with app.app_context():
        for person in (ona, val, sam):
            learning.enrol(session, person, course)
        for item in course.items:
            learning.complete_item(session, ona, course, item, T0)
            learning.complete_item(session, val, course, item, datetime.now(UTC))
        session.commit()

    class World:
        pass

    w = World()
    w.org, w.trainer, w.admin, w.course = org, trainer, admin, course
    w.ona, w.val, w.sam = ona, val, sam
    return w


def stored_status(session, user):
    session.expire_all()
    return session.scalar(select(Enrolment.status).where(Enrolment.user_id == user.id))


def test_the_daily_task_has_not_run(session, world):
    # The premise of every test here: the database still says "completed".
    assert stored_status(session, world.ona) == "completed"


def test_the_dashboard_counts_it_expired_not_completed(client, session, world):
    scope = reports.scope_for(world.admin)
    data = reports.dashboard(session, scope)
    assert (data.total.enrolled, data.total.completed, data.total.expired) == (3, 1, 1)
    [course_row] = data.by_course
    assert (course_row.enrolled, course_row.completed) == (3, 1)

    login(client, world.admin.email)
    page = client.get("/reports/dashboard").get_data(as_text=True)
    assert re.search(r"<dt>Completed</dt><dd>1</dd>", page)
    assert re.search(r"<dt>Expired</dt><dd><a href=\"/reports\?status=expired\">1<", page)
    assert stored_status(session, world.ona) == "completed"


def grid_row(page, name):
    match = re.search(rf'<th scope="row">{name}</th>\s*<td>[^<]*</td>\s*<td>([^<]*)', page)
    assert match, name
    return match.group(1).strip()


def test_the_trainer_grid_shows_and_filters_it_expired(client, session, world):
    login(client, world.trainer.email)
    page = client.get("/trainer/courses/fire-safety").get_data(as_text=True)
    assert grid_row(page, "Ona Old") == "Expired"
    assert grid_row(page, "Val Valid") == "Completed"
    assert re.search(r'<option (selected )?value="expired"( selected)?>Expired</option>', page)

    expired = client.get("/trainer/courses/fire-safety?status=expired")
    assert expired.status_code == 200
    text = expired.get_data(as_text=True)
    assert "Ona Old" in text and "Val Valid" not in text and "Sam Started" not in text
    completed = client.get("/trainer/courses/fire-safety?status=completed").get_data(as_text=True)
    assert "Val Valid" in completed and "Ona Old" not in completed.split("grid-caption")[1]

    rows = list(csv.reader(io.StringIO(client.get(
        "/trainer/courses/fire-safety/progress.csv?status=expired"
    ).get_data(as_text=True).lstrip("\ufeff"))))  # fmt: skip
    assert [(r[0], r[3]) for r in rows[1:]] == [("Ona Old", "Expired")]
    # An expired completion may be recorded again by hand: Ona is a choice.
    assert re.search(r'<option value="\d+">Ona Old \(ona@example.org\)</option>', page)
    assert "Val Valid (val@example.org)</option>" not in page


def test_the_report_and_the_api_say_expired(client, session, world, token_for):
    login(client, world.admin.email)
    html = client.get("/reports?status=expired").get_data(as_text=True)
    assert "ona@example.org" in html and "val@example.org" not in html
    body = json.loads(client.get("/reports/completion.json?sort=learner").data)
    assert {r["email"]: r["status"] for r in body["rows"]} == {
        "ona@example.org": "expired",
        "val@example.org": "completed",
        "sam@example.org": "not_started",
    }
    api = client.get("/api/v1/reports/completion?status=expired", headers=token_for(world.admin))
    assert api.status_code == 200
    assert "ona@example.org" in api.get_data(as_text=True)
    assert "val@example.org" not in api.get_data(as_text=True)
    mine = client.get("/api/v1/me/enrolments", headers=token_for(world.ona)).get_json()
    assert [e["status"] for e in mine["enrolments"]] == ["expired"]


def test_the_course_assignments_count_it_expired(app, client, session, world):
    with app.app_context():
        assignments.assign_people(
            session, world.admin, world.course, [(1, "ona@example.org"), (2, "val@example.org")]
        )
        session.commit()
        [line] = assignments.course_assignments(session, world.admin, world.course)
    assert (line.held, line.completed) == (2, 1)
    login(client, world.admin.email)
    assert client.get("/courses/fire-safety/assignments").status_code == 200
    people = client.get(f"/courses/fire-safety/assignments/{line.assignment.id}").get_data(
        as_text=True
    )
    assert re.search(r"ona@example.org</td>\s*<td>Expired</td>", people)
    assert re.search(r"val@example.org</td>\s*<td>Completed</td>", people)


def test_a_completion_recorded_by_hand_gets_a_new_validity(client, session, world):
    # Before: a completion recorded by hand kept the expired date, so it showed
    # expired the moment it was recorded.
    login(client, world.trainer.email)
    response = post_form(
        client,
        "/trainer/courses/fire-safety/complete",
        {"learner": str(world.ona.id), "reason": "Face-to-face session"},
        page="/trainer/courses/fire-safety",
    )
    assert response.status_code == 302
    session.expire_all()
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == world.ona.id))
    assert enrolment.status == "completed"
    assert enrolment.expires_at > datetime.now(UTC) + timedelta(days=300)
    page = client.get("/trainer/courses/fire-safety").get_data(as_text=True)
    assert grid_row(page, "Ona Old") == "Completed"


def test_the_data_export_says_expired(client, session, world):
    from vle.admin import services as admin

    data = admin.user_data(session, world.ona)
    assert [e["status"] for e in data["enrolments"]] == ["expired"]
