"""A learner is notified (My learning and mail) once a trainer has graded their essay."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import login, post_form
from tests.quizzes.conftest import ESSAY, GIFT, RIGHT, question_ids
from tests.quizzes.test_views import attempt_url, form_data, start, the_attempt
from vle.mail.models import Notification


def test_the_learner_is_told_their_essay_is_graded(
    client, session, make_quiz, make_user, enrol, smtp_server
):
    trainer = make_user("trainer")
    course, item = make_quiz(GIFT + "\n" + ESSAY, trainers=[trainer])
    learner = make_user(name="Ona Onaitė")
    enrol(learner, course)
    login(client, learner.email)
    start(client, course, item)
    attempt = the_attempt(session, learner)
    answers = {**RIGHT, "Reflect": "I will ask before I accept."}
    url = attempt_url(course, item, attempt.id)
    post_form(client, f"{url}/answers", form_data(session, item, answers))
    post_form(client, f"{url}/submit")
    session.rollback()
    assert session.scalars(select(Notification)).all() == []
    staff = client.application.test_client()
    login(staff, trainer.email)
    essay = question_ids(session, item)["Reflect"]
    response = post_form(
        staff, f"/trainer/attempts/{attempt.id}",
        {f"mark-{essay}": "100", f"comment-{essay}": "Good plan."}, page="/trainer/grading",
    )  # fmt: skip
    assert response.status_code == 303
    session.rollback()
    # The grade passes the quiz, which completes the course: the certificate is told too.
    rows = {row.kind: row for row in session.scalars(select(Notification))}
    assert sorted(rows) == ["certificate_issued", "essay_graded"]
    row = rows["essay_graded"]
    assert row.user_id == learner.id
    assert row.url.endswith(url)
    [message] = [m for m in smtp_server.messages if "graded" in m["Subject"]]
    assert message["To"].addresses[0].addr_spec == learner.email
    assert len(smtp_server.messages) == 2
    assert "Your answers in" in client.get("/my").get_data(as_text=True)
