"""Recurring mandatory training (issue 15, point 4): a completion of a course
with a validity period expires; the learner is reminded 30 and 7 days before
(once each, by real mail), re-enrolled on expiry with every earlier completion
kept, and gets a new certificate for the new completion, while the old one
verifies as expired. My learning, the course page, the report and the API show
it."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.reports.test_views import csv_rows
from vle.certificates import services as certificates
from vle.learning import expiry, tasks
from vle.learning import services as learning
from vle.learning.models import Completion, Enrolment, ItemProgress, ItemProgressRound
from vle.mail.models import Notification
from vle.reports import services as reports

T0 = datetime(2025, 1, 31, 9, 30, tzinfo=UTC)
EXPIRES = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)  # 12 months on


def complete_all(session, user, course, now):
    for item in course.items:
        learning.complete_item(session, user, course, item, now)
    session.commit()


@pytest.fixture
def world(app, session, make_org, make_user, make_course):
    org = make_org("CITY", name="City")
    learner = make_user(org=org, email="ona@example.org", name="Ona Petraitienė")
    admin = make_user(role="admin", org=org, email="boss@example.org", network=True)
    course = make_course(slug="fire-safety", title="Fire safety", lessons=2, validity_months=12)
    with app.app_context():
        learning.enrol(session, learner, course)
        complete_all(session, learner, course, T0)

    class World:
        pass

    w = World()
    w.org, w.learner, w.admin, w.course = org, learner, admin, course
    return w


# The day as the pages write it in English (the test client's locale).
EXPIRY_DAY = r"(31 Jan 2026|Jan 31, 2026)"


def enrolment_of(session, world):
    session.expire_all()
    return session.scalar(select(Enrolment).where(Enrolment.user_id == world.learner.id))


def test_a_completion_expires_at_the_end_of_its_validity(session, world):
    enrolment = enrolment_of(session, world)
    [completion] = session.scalars(select(Completion)).all()
    assert completion.expires_at == EXPIRES and enrolment.expires_at == EXPIRES
    assert enrolment.status == "completed"
    assert not enrolment.is_expired(EXPIRES - timedelta(seconds=1))
    assert enrolment.shown_status(EXPIRES - timedelta(seconds=1)) == "completed"
    assert enrolment.is_expired(EXPIRES)
    assert enrolment.shown_status(EXPIRES) == "expired"


def test_the_end_of_a_short_month_and_no_validity(session, make_course, world):
    # 31 January + 1 month is the last day of February.
    assert learning._add_months(T0, 1) == datetime(2025, 2, 28, 9, 30, tzinfo=UTC)
    plain = make_course(slug="plain", lessons=1)
    learning.enrol(session, world.learner, plain)
    complete_all(session, world.learner, plain, T0)
    enrolment = session.scalar(select(Enrolment).where(Enrolment.course_id == plain.id))
    assert enrolment.expires_at is None and not enrolment.is_expired(T0 + timedelta(days=9999))


def test_reminder_days_setting():
    assert expiry.reminder_days("30,7") == (30, 7)
    assert expiry.reminder_days(" 7, 30 ,") == (30, 7)
    assert expiry.reminder_days("") == ()
    with pytest.raises(ValueError):
        expiry.reminder_days("0")


def test_reminders_at_30_and_7_days_are_sent_once_each(app, session, world, smtp_server):
    def run(now):
        with app.app_context():
            sent = expiry.send_reminders(session, (30, 7), now)
            session.commit()
        return [reminder.days for reminder in sent]

    assert run(EXPIRES - timedelta(days=31)) == []
    assert smtp_server.messages == []
    run(EXPIRES - timedelta(days=29))
    [first] = smtp_server.wait_for(1)
    assert "ona@example.org" in first["To"]
    assert "Fire safety" in first["Subject"]
    assert "January" in first["Subject"] and "2026" in first["Subject"]
    text = first.get_body(("plain",)).get_content()
    assert "/courses/fire-safety" in text
    run(EXPIRES - timedelta(days=20))  # again, and the next day: nothing new
    run(EXPIRES - timedelta(days=8))
    assert len(smtp_server.messages) == 1
    run(EXPIRES - timedelta(days=6))
    smtp_server.wait_for(2)
    run(EXPIRES - timedelta(days=5))
    run(EXPIRES - timedelta(hours=1))
    assert len(smtp_server.messages) == 2
    assert "Fire safety" in smtp_server.messages[1]["Subject"]
    # Each is also a notification on My learning.
    notes = session.scalars(
        select(Notification).where(Notification.kind == "completion_expiring")
    ).all()
    assert len(notes) == 2 and {n.user_id for n in notes} == {world.learner.id}
    # Once expired, nobody is reminded of it.
    assert run(EXPIRES + timedelta(days=1)) == []


def test_a_completion_first_seen_close_to_expiry_gets_the_nearest_reminder_only(
    app, session, world, smtp_server
):
    with app.app_context():
        sent = expiry.send_reminders(session, (30, 7), EXPIRES - timedelta(days=3))
        session.commit()
    assert [reminder.days for reminder in sent] == [7]
    assert len(smtp_server.wait_for(1)) == 1


def test_the_daily_task_reminds_with_the_configured_days(app, session, world, smtp_server):
    enrolment = enrolment_of(session, world)
    enrolment.expires_at = datetime.now(UTC) + timedelta(days=2, hours=1)
    session.commit()
    app.config["EXPIRY_REMINDER_DAYS"] = "3"
    assert tasks.recurring_training.call_local() == (1, 0)
    assert len(smtp_server.wait_for(1)) == 1
    tasks.recurring_training.call_local()  # the next run finds it reminded
    assert len(smtp_server.messages) == 1


def test_on_expiry_the_enrolment_starts_over_and_keeps_its_history(
    app, session, world, smtp_server
):
    with app.app_context():
        assert expiry.expire_completions(session, EXPIRES - timedelta(seconds=1)) == []
        [enrolment_id] = expiry.expire_completions(session, EXPIRES)
        session.commit()
        assert expiry.expire_completions(session, EXPIRES + timedelta(days=1)) == []  # once
        session.commit()
    enrolment = enrolment_of(session, world)
    assert enrolment.id == enrolment_id
    assert (enrolment.status, enrolment.progress, enrolment.completed_at) == ("expired", 0, None)
    assert enrolment.expires_at == EXPIRES and enrolment.ended_at is None
    # The new round starts empty; the old round's progress is kept with its completion.
    assert session.scalar(select(func.count()).select_from(ItemProgress)) == 0
    [first] = session.scalars(select(Completion)).all()
    old = session.scalars(select(ItemProgressRound)).all()
    assert len(old) == 2 and {row.completion_id for row in old} == {first.id}
    assert all(row.completed_at == T0 for row in old)
    [told] = smtp_server.wait_for(1)
    assert "has expired" in told["Subject"]

    # Completing again: a second completion, a new validity, a new certificate.
    t1 = EXPIRES + timedelta(days=3)
    with app.app_context():
        first_certificate = certificates.certificate_for(session, world.learner, world.course)
        session.commit()
    learning.record_view(session, world.learner, world.course, world.course.items[0], t1)
    session.commit()
    assert enrolment_of(session, world).status == "in_progress"
    complete_all(session, world.learner, world.course, t1)
    completions = session.scalars(select(Completion).order_by(Completion.id)).all()
    assert [c.completed_at for c in completions] == [T0, t1]
    enrolment = enrolment_of(session, world)
    assert (enrolment.status, enrolment.completed_at) == ("completed", t1)
    assert enrolment.expires_at == datetime(2027, 2, 3, 9, 30, tzinfo=UTC)
    with app.app_context():
        second_certificate = certificates.certificate_for(session, world.learner, world.course)
        session.commit()
    assert second_certificate.code != first_certificate.code
    assert second_certificate.completion_id == completions[1].id
    assert len(certificates.certificates_of(session, world.learner)) == 2


def test_the_verification_page_says_expired_on_never_valid(app, client, session, world):
    with app.app_context():
        certificate = certificates.certificate_for(session, world.learner, world.course)
        session.commit()
    # The completion's validity (31 January 2026) has passed: it is expired today.
    html = client.get(f"/certificates/verify/{certificate.display_code}").get_data(as_text=True)
    assert re.search(r"This certificate expired on (31 January 2026|January 31, 2026)", html)
    assert "This certificate is valid" not in html
    assert "Ona Petraitienė" in html

    # A certificate still within its validity is valid, and says until when.
    completion = session.get(Completion, certificate.completion_id)
    later = datetime.now(UTC) + timedelta(days=40)
    completion.expires_at = later
    session.commit()
    html = client.get(f"/certificates/verify/{certificate.display_code}").get_data(as_text=True)
    assert "This certificate is valid" in html and "Valid until" in html
    assert "expired on" not in html


def test_my_learning_the_course_page_and_the_api_show_it(client, session, world, token_for):
    # Past its validity (T0 + 12 months is in the past), before the daily task ran.
    login(client, world.learner.email)
    my = client.get("/my").get_data(as_text=True)
    assert re.search(rf"Expired on {EXPIRY_DAY}", my)
    page = client.get("/courses/fire-safety").get_data(as_text=True)
    assert re.search(rf"Your completion expired on {EXPIRY_DAY}\.", page)
    mine = client.get("/api/v1/me/enrolments", headers=token_for(world.learner)).get_json()
    [enrolment] = mine["enrolments"]
    assert (enrolment["status"], enrolment["expires_at"]) == ("expired", "2026-01-31T09:30:00Z")

    # And after the daily task started the enrolment over, the same.
    with client.application.app_context():
        expiry.expire_completions(session)
        session.commit()
    assert re.search(rf"Expired on {EXPIRY_DAY}", client.get("/my").get_data(as_text=True))
    mine = client.get("/api/v1/me/enrolments", headers=token_for(world.learner)).get_json()
    assert mine["enrolments"][0]["status"] == "expired"


def test_a_valid_completion_shows_until_when(client, session, world, token_for):
    enrolment = enrolment_of(session, world)
    enrolment.expires_at = datetime(2099, 5, 1, tzinfo=UTC)
    session.commit()
    login(client, world.learner.email)
    day = r"(1 May 2099|May 1, 2099)"
    assert re.search(rf"Valid until {day}", client.get("/my").get_data(as_text=True))
    page = client.get("/courses/fire-safety").get_data(as_text=True)
    assert re.search(rf"Valid until {day}\.", page) and "expired" not in page.lower()
    [one] = client.get("/api/v1/me/enrolments", headers=token_for(world.learner)).get_json()[
        "enrolments"
    ]
    assert (one["status"], one["expires_at"]) == ("completed", "2099-05-01T00:00:00Z")


@pytest.mark.parametrize("task_ran", [False, True])
def test_the_report_has_an_expires_column_and_an_expired_filter(
    client, session, world, make_user, task_ran
):
    other = make_user(org=world.org, email="sam@example.org")
    learning.enrol(session, other, world.course)
    session.commit()
    if task_ran:
        with client.application.app_context():
            expiry.expire_completions(session)
            session.commit()
    scope = reports.scope_for(world.admin)
    filters = reports.resolve_filters(session, scope, status="expired")
    [row] = reports.iter_completion_rows(session, filters, scope)
    assert (row.email, row.status, row.expires_at) == ("ona@example.org", "expired", EXPIRES)
    completed = reports.resolve_filters(session, scope, status="completed")
    assert list(reports.iter_completion_rows(session, completed, scope)) == []
    totals = reports.completion_totals(session, reports.resolve_filters(session, scope), scope)
    assert (totals.expired, totals.not_started, totals.completed) == (1, 1, 0)

    login(client, world.admin.email)
    html = client.get("/reports?status=expired").get_data(as_text=True)
    assert "ona@example.org" in html and "sam@example.org" not in html
    assert re.search(r'<option (selected )?value="expired"( selected)?>Expired</option>', html)
    assert '<th scope="col">Expires</th>' in html
    rows = csv_rows(client.get("/reports/completion.csv?sort=learner"))
    assert rows[0][-1].startswith("Expires at (")  # the reader's zone
    by_email = {row[1]: row for row in rows[1:]}
    assert by_email["ona@example.org"][7] == "Expired"
    assert re.fullmatch(r"2026-01-31 \d\d:30:00", by_email["ona@example.org"][-1])
    assert by_email["sam@example.org"][-1] == ""
    body = json.loads(client.get("/reports/completion.json?status=expired").data)
    assert [(r["email"], r["status"], r["expires_at"]) for r in body["rows"]] == [
        ("ona@example.org", "expired", "2026-01-31T09:30:00Z")
    ]
    xlsx = client.get("/reports/completion.xlsx?status=expired").get_data()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>Expires at (" in sheet and "<t>Expired</t>" in sheet
    assert "<t>sam@example.org</t>" not in sheet
