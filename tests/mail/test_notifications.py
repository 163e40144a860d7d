"""Notifications (issue 15, point 6): a row on My learning and a mail, in the
person's language, unless they stopped that kind's mails or chose the daily
digest; the preferences page; due-date reminders once per enrolment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import csrf_token, login
from vle.accounts import services as accounts
from vle.certificates import services as certificates
from vle.db import utcnow
from vle.learning import reminders
from vle.learning import services as learning
from vle.mail import services as mail
from vle.mail.models import MailOptOut, Notification, OutboxMail
from vle.mail.tasks import send_digests


def _notify(app, session, user, key, title="Safety at work", kind="course_assigned"):
    with app.app_context():
        mail.notify(
            session,
            user_id=user.id,
            to_address=user.email,
            to_name=user.name,
            locale=user.locale,
            kind=kind,
            context={"course_title": title, "course_url": "https://vle.test/c", "due": None},
            key=key,
            url="https://vle.test/c",
        )
        session.commit()


def rows(session, user):
    session.rollback()
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def test_notify_writes_the_row_and_the_mail_in_the_recipients_language(
    app, session, make_user, smtp_server
):
    ona = make_user(name="Ona")
    accounts.set_locale(ona, "lt", app.config["LANGUAGES"])
    session.commit()
    _notify(app, session, ona, "test:1")
    _notify(app, session, ona, "test:1")  # the same event again: nothing more
    [row] = rows(session, ona)
    assert row.kind == "course_assigned" and row.read_at is None and row.locale == "lt"
    assert "Safety at work" in row.title
    [message] = smtp_server.messages
    assert message["Content-Language"] == "lt"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Jums paskirtas kursas „Safety at work“" in message.get_body(("plain",)).get_content()


def test_an_opted_out_kind_shows_on_my_learning_but_sends_no_mail(
    app, session, make_user, smtp_server
):
    ona = make_user()
    with app.app_context():
        mail.opt_out(session, ona.email, "course_assigned")
        session.commit()
    _notify(app, session, ona, "test:2")
    assert len(rows(session, ona)) == 1
    assert smtp_server.messages == []
    assert session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_the_daily_digest_is_one_mail_with_every_item(app, session, make_user, smtp_server):
    ona, sam = make_user(), make_user()
    with app.app_context():
        mail.set_mail_choice(session, ona.email, "course_assigned", mail.MAIL_DIGEST)
        session.commit()
    _notify(app, session, ona, "test:a", title="First course")
    _notify(app, session, ona, "test:b", title="Second course")
    _notify(app, session, sam, "test:c", title="Third course")  # sam gets his at once
    assert [m["To"] for m in smtp_server.messages] == [f"{sam.name} <{sam.email}>"]
    assert len(rows(session, ona)) == 2
    with app.app_context():
        assert send_digests.call_local() == 1
        assert send_digests.call_local() == 0  # nothing waits any more
    assert len(smtp_server.messages) == 2
    digest = smtp_server.messages[1]
    assert digest["To"] == f"{ona.name} <{ona.email}>"
    assert "2 notifications" in digest["Subject"]
    text = digest.get_body(("plain",)).get_content()
    assert "First course" in text and "Second course" in text and "Third course" not in text


def test_due_and_overdue_reminders_are_sent_once_per_enrolment(
    app, session, make_user, make_course, smtp_server
):
    course = make_course(title="Fire drill")
    soon, late, later = make_user(), make_user(), make_user()
    today = utcnow().date()
    for user, due in ((soon, today + timedelta(days=5)), (late, today - timedelta(days=1)),
                      (later, today + timedelta(days=30))):  # fmt: skip
        enrolment = learning.enrol(session, user, course)[0]
        enrolment.due = due
    session.commit()
    with app.app_context():
        assert reminders.send_due_reminders(today) == 2
        assert reminders.send_due_reminders(today) == 0
    assert [r.kind for r in rows(session, soon)] == ["due_soon"]
    assert [r.kind for r in rows(session, late)] == ["overdue"]
    assert rows(session, later) == []
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert len(subjects) == 2
    assert any("overdue" in s and "Fire drill" in s for s in subjects)


def test_a_certificate_issued_is_notified(app, session, make_user, make_course, smtp_server):
    ona, course = make_user(), make_course(title="First aid")
    learning.enrol(session, ona, course)
    for item in course.items:
        learning.complete_item(session, ona, course, item)
    session.commit()
    with app.app_context():
        certificates.certificate_for(session, ona, course)
        session.commit()
    [row] = rows(session, ona)
    assert row.kind == "certificate_issued" and "First aid" in row.title
    assert "First aid" in smtp_server.messages[0]["Subject"]


def test_my_learning_lists_them_and_the_navigation_counts_the_unread(
    app, client, session, make_user
):
    ona = make_user()
    _notify(app, session, ona, "test:x", title="Older course")
    _notify(app, session, ona, "test:y", title="Newer course")
    login(client, ona.email)
    page = client.get("/my").get_data(as_text=True)
    assert 'id="notifications-heading"' in page
    assert page.index("Newer course") < page.index("Older course")  # newest first
    assert '<span class="count">2<span class="visually-hidden"> unread' in page
    first = rows(session, ona)[0]
    token = csrf_token(client, "/my")
    response = client.post("/my/notifications/read", data={"csrf_token": token, "id": first.id})
    assert response.status_code == 302
    assert [r.read_at is not None for r in rows(session, ona)] == [True, False]
    page = client.get("/my").get_data(as_text=True)
    assert '<span class="count">1<span' in page
    client.post("/my/notifications/read", data={"csrf_token": token})
    assert all(r.read_at is not None for r in rows(session, ona))
    assert 'class="count"' not in client.get("/my").get_data(as_text=True)
    # Someone else's notification is not theirs to mark.
    sam = make_user()
    _notify(app, session, sam, "test:z")
    client.post(
        "/my/notifications/read", data={"csrf_token": token, "id": rows(session, sam)[0].id}
    )
    assert rows(session, sam)[0].read_at is None


def test_the_preferences_page_needs_csrf_and_records_each_choice(app, client, session, make_user):
    ona = make_user()
    login(client, ona.email)
    page = client.get("/my/notifications")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<h1>Notifications</h1>" in text and 'for="kind-overdue-digest"' in text
    refused = client.post("/my/notifications", data={"kind-overdue": "none"})
    assert refused.status_code == 400
    token = csrf_token(client, "/my/notifications")
    client.post(
        "/my/notifications",
        data={"csrf_token": token, "kind-overdue": "none", "kind-message": "digest"},
    )
    with app.app_context():
        choices = mail.mail_choices(session, ona.email)
    assert choices["overdue"] == "none" and choices["message"] == "digest"
    assert choices["course_assigned"] == "each"
    session.rollback()
    # The one-click unsubscribe records into the same place.
    assert session.scalars(select(MailOptOut.kind)).all() == ["overdue"]
    client.post("/my/notifications", data={"csrf_token": token})
    session.rollback()
    with app.app_context():
        assert set(mail.mail_choices(session, ona.email).values()) == {"each"}
    assert (
        client.post(
            "/my/notifications", data={"csrf_token": token, "kind-overdue": "x"}
        ).status_code
        == 400
    )


def test_the_pages_need_a_sign_in(client):
    assert client.get("/my/notifications").status_code == 302
    assert client.post("/my/notifications/read").status_code in (302, 400)
