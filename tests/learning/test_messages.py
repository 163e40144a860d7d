"""A trainer's message reaches all, or only the chosen, learners of the course;
nobody else may send one."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_token, login
from vle.audit import AuditEntry
from vle.learning import services as learning
from vle.mail.models import Notification


def _setup(session, make_user, make_course):
    trainer, other_trainer = make_user("trainer"), make_user("trainer")
    course = make_course(title="Safe lifting", trainers=[trainer])
    make_course(title="Other", trainers=[other_trainer])
    ona, sam, eve = make_user(name="Ona"), make_user(name="Sam"), make_user(name="Eve")
    for person in (ona, sam):
        learning.enrol(session, person, course)
    session.commit()
    return trainer, other_trainer, course, ona, sam, eve


def told(session):
    session.rollback()
    return sorted(
        (n.user_id, n.title)
        for n in session.scalars(select(Notification).where(Notification.kind == "message"))
    )


def test_a_message_to_all_and_to_chosen_learners(
    client, session, make_user, make_course, smtp_server
):
    trainer, _other, course, ona, sam, eve = _setup(session, make_user, make_course)
    login(client, trainer.email)
    path = f"/courses/{course.slug}/message"
    page = client.get(path).get_data(as_text=True)
    assert "<h1>Message to learners</h1>" in page and f'for="learner-{ona.id}"' in page
    assert "Eve" not in page
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={"csrf_token": token, "subject": "Bring boots", "body": "Monday, 9:00.", "to": "all"},
    )
    assert response.status_code == 303
    assert told(session) == [(ona.id, "Bring boots"), (sam.id, "Bring boots")]
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_server.messages) == sorted(
        [ona.email, sam.email]
    )
    assert "Monday, 9:00." in smtp_server.messages[0].get_body(("plain",)).get_content()
    response = client.post(
        path,
        data={"csrf_token": token, "subject": "Only you", "body": "Hi", "to": "chosen",
              "learner": [str(sam.id)]},
    )  # fmt: skip
    assert response.status_code == 303
    assert (sam.id, "Only you") in told(session) and (ona.id, "Only you") not in told(session)
    # Someone not in the course cannot be chosen; nothing is sent then.
    refused = client.post(
        path,
        data={"csrf_token": token, "subject": "X", "body": "Y", "to": "chosen",
              "learner": [str(eve.id)]},
    )  # fmt: skip
    assert refused.status_code == 422
    assert all(user_id != eve.id for user_id, _title in told(session))
    assert client.post(path, data={"subject": "X", "body": "Y"}).status_code == 400  # no CSRF
    session.rollback()
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "course.message").order_by(AuditEntry.id)
    ).all()
    assert [entry.details["to"] for entry in entries] == ["all", "chosen"]
    # No personal data in the audit log's details: who was told is counted, not named.
    assert sam.email not in str([entry.details for entry in entries])


def test_only_the_courses_trainers_may_write(client, session, make_user, make_course):
    _trainer, other_trainer, course, ona, _sam, _eve = _setup(session, make_user, make_course)
    path = f"/courses/{course.slug}/message"
    login(client, ona.email)
    assert client.get(path).status_code == 403
    token = csrf_token(client, "/my")
    assert (
        client.post(path, data={"csrf_token": token, "subject": "a", "body": "b"}).status_code
        == 403
    )
    other = client.application.test_client()
    login(other, other_trainer.email)
    assert other.get(path).status_code == 403
    assert told(session) == []
    assert client.application.test_client().get(path).status_code == 302
