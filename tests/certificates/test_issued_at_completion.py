"""The learner is told "certificate issued" the moment they complete a course —
by its lessons, by passing its quiz, or by a trainer's hand — on My learning
and by one mail in their language; never twice for one completion. A new
completion of recurring training gets a new certificate and a new notice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form
from tests.quizzes.conftest import RIGHT, enrol, make_quiz  # noqa: F401 (fixtures)
from tests.quizzes.test_attempts import answer_all
from vle.accounts import services as accounts
from vle.certificates.models import Certificate
from vle.learning import events, expiry
from vle.learning import services as learning
from vle.learning.models import Completion
from vle.mail.models import Notification
from vle.quizzes import services as quizzes

LT_SUBJECT = "Jūsų kurso „{}“ pažymėjimas"


def _lithuanian(app, session, user):
    accounts.set_locale(user, "lt", app.config["LANGUAGES"])
    session.commit()


def notices(session, user):
    session.rollback()
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id, Notification.kind == "certificate_issued")
            .order_by(Notification.id)
        )
    )


def certificates(session, user):
    session.rollback()
    return list(
        session.scalars(
            select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
        )
    )


def _complete_lessons_in_the_browser(client, course):
    for item in course.items:
        path = f"/courses/{course.slug}/items/{item.id}"
        token = csrf_token(client, path)
        response = client.post(f"{path}/complete", data={"csrf_token": token})
        assert response.status_code == 302


def _told_once_in_lithuanian(client, session, learner, course, smtp_server):
    [notice] = notices(session, learner)
    [certificate] = certificates(session, learner)
    assert notice.title == LT_SUBJECT.format(course.title)
    assert notice.key == f"certificate_issued:{certificate.code}"
    page = client.get("/my").get_data(as_text=True)
    assert LT_SUBJECT.format(course.title) in page
    [message] = [m for m in smtp_server.messages if m["To"].addresses[0].addr_spec == learner.email]
    assert message["Subject"] == LT_SUBJECT.format(course.title)
    assert message["Content-Language"] == "lt"
    text = message.get_body(("plain",)).get_content()
    assert certificate.display_code in text and "pažymėjimas išduotas" in text
    assert f"/my/certificates/{course.slug}" in text
    return certificate


def test_completing_the_lessons_tells_the_learner_at_once(
    app, client, session, make_user, make_course, smtp_server
):
    course = make_course(title="Pirmoji pagalba", lessons=2)
    learner = make_user()
    _lithuanian(app, session, learner)
    learning.enrol(session, learner, course)
    session.commit()
    login(client, learner.email)
    _complete_lessons_in_the_browser(client, course)
    certificate = _told_once_in_lithuanian(client, session, learner, course, smtp_server)

    # The same completion again (a retried request, an event emitted twice):
    # no second certificate, notice or mail.
    _complete_lessons_in_the_browser(client, course)
    completion = session.scalar(select(Completion).where(Completion.user_id == learner.id))
    with app.app_context():
        events.emit(events.CourseCompleted(session, learner.id, course, completion))
        session.commit()
    assert len(notices(session, learner)) == 1
    assert [c.id for c in certificates(session, learner)] == [certificate.id]
    # The download gives the certificate the mail named, and tells nothing more.
    response = client.get(f"/my/certificates/{course.slug}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert [c.code for c in certificates(session, learner)] == [certificate.code]
    assert len(notices(session, learner)) == 1
    assert len(smtp_server.messages) == 1


def test_passing_the_quiz_tells_the_learner(app, client, session, make_user, request, smtp_server):
    # The quiz fixtures of tests/quizzes (imported above, so pytest finds them).
    new_quiz, enrol_in = request.getfixturevalue("make_quiz"), request.getfixturevalue("enrol")
    course, item = new_quiz()
    learner = make_user()
    _lithuanian(app, session, learner)
    enrol_in(learner, course)
    with app.app_context():
        attempt, _ = quizzes.start_attempt(session, learner, course, item)
        answer_all(session, attempt, item, RIGHT)
        quizzes.submit(session, attempt, course, item)
        session.commit()
    login(client, learner.email)
    _told_once_in_lithuanian(client, session, learner, course, smtp_server)


def test_a_trainers_manual_completion_tells_the_learner(
    app, client, session, make_user, make_course, smtp_server
):
    trainer = make_user("trainer")
    course = make_course(title="Darbas aukštyje", trainers=[trainer])
    learner = make_user()
    _lithuanian(app, session, learner)
    learning.enrol(session, learner, course)
    session.commit()
    login(client, trainer.email)
    url = f"/trainer/courses/{course.slug}/complete"
    done = post_form(client, url, {"learner": str(learner.id), "reason": "Face-to-face"})
    assert done.status_code == 302
    # Recorded twice by mistake: refused, and nothing more is sent.
    again = post_form(client, url, {"learner": str(learner.id), "reason": "Face-to-face"})
    assert again.status_code == 422
    learner_client = app.test_client()
    login(learner_client, learner.email)
    _told_once_in_lithuanian(learner_client, session, learner, course, smtp_server)
    assert len(smtp_server.messages) == 1


def test_recurring_training_a_new_completion_a_new_certificate_and_notice(
    app, client, session, make_user, make_course, smtp_server
):
    course = make_course(title="Fire safety", lessons=1, validity_months=12)
    learner = make_user()
    learning.enrol(session, learner, course)
    session.commit()
    login(client, learner.email)
    _complete_lessons_in_the_browser(client, course)
    [first] = certificates(session, learner)
    completion = session.get(Completion, first.completion_id)
    with app.app_context():
        expiry.expire_completions(session, completion.expires_at + timedelta(days=1))
        session.commit()
    _complete_lessons_in_the_browser(client, course)
    first_again, second = certificates(session, learner)
    assert first_again.id == first.id and second.code != first.code
    assert session.scalar(select(func.count()).select_from(Completion)) == 2
    assert [n.key for n in notices(session, learner)] == [
        f"certificate_issued:{first.code}",
        f"certificate_issued:{second.code}",
    ]
    codes = [m.get_body(("plain",)).get_content() for m in smtp_server.messages]
    issued = [text for text in codes if "has been issued" in text]
    assert len(issued) == 2
    assert first.display_code in issued[0] and second.display_code in issued[1]
