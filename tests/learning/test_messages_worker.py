"""A trainer's message is sent by the worker: the request checks it, writes the
audit entry and queues one job; the job tells every learner (each one's mail
choice and unsubscribe link kept). A course of thousands answers at once."""

from __future__ import annotations

import re

from sqlalchemy import event, func, insert, select

from tests.conftest import csrf_token, login
from vle import create_app, db
from vle.accounts.models import User
from vle.audit import AuditEntry
from vle.learning import services as learning
from vle.learning.models import Enrolment
from vle.mail import services as mail
from vle.mail.models import Notification, OutboxMail
from vle.mail.queue import huey


def _web(_database, smtp_server=None):
    """The web side with a real queue (in memory): tasks wait for a worker."""
    settings = {**_database, "QUEUE_URL": "memory://", "QUEUE_IMMEDIATE": False}
    if smtp_server is not None:
        settings.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    return create_app(settings, env="test")


def _run_worker():
    """What `vle worker` does with the queued tasks, here, one at a time."""
    ran = []
    while (queued := huey.dequeue()) is not None:
        ran.append(queued.name)
        huey.execute(queued)
    return ran


def count(session, model, *where):
    session.rollback()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_request_queues_one_job_and_the_worker_tells_each_learner(
    _database, app, session, make_user, make_course, smtp_server
):
    trainer = make_user("trainer")
    course = make_course(title="Safe lifting", trainers=[trainer])
    ona, sam, eve, dag = (make_user(name=n) for n in ("Ona", "Sam", "Eve", "Dag"))
    for person in (ona, sam, eve):
        learning.enrol(session, person, course)
    session.commit()
    with app.app_context():
        mail.opt_out(session, sam.email, "message")  # Sam stopped these mails
        mail.set_mail_choice(session, eve.email, "message", mail.MAIL_DIGEST)
        session.commit()
    web = _web(_database, smtp_server)
    try:
        client = web.test_client()
        login(client, trainer.email)
        path = f"/courses/{course.slug}/message"
        token = csrf_token(client, path)
        response = client.post(
            path,
            data={"csrf_token": token, "subject": "Bring boots", "body": "Monday.", "to": "all"},
        )
        assert response.status_code == 303
        assert "sent to 3 learners" in client.get(path).get_data(as_text=True)
        # The request wrote the audit entry and one job; nobody is told yet.
        assert count(session, AuditEntry, AuditEntry.action == "course.message") == 1
        assert count(session, Notification) == 0 and smtp_server.messages == []
        assert huey.pending_count() == 1
        # Dag enrols before the worker runs: the job tells the course's learners then.
        learning.enrol(session, dag, course)
        session.commit()
        assert _run_worker()[0].endswith("tell_learners")
        _run_worker()  # the mails the job queued
        session.rollback()
        told = session.scalars(
            select(Notification.user_id).where(Notification.kind == "message")
        ).all()
        assert sorted(told) == sorted([ona.id, sam.id, eve.id, dag.id])
        # Sam stopped them, Eve gets them in the daily digest: mails for Ona and Dag.
        mailed = sorted(m["To"].addresses[0].addr_spec for m in smtp_server.messages)
        assert mailed == sorted([ona.email, dag.email])
        message = smtp_server.messages[0]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Monday." in message.get_body(("plain",)).get_content()
        # The job run again (a retry) tells nobody twice.
        with web.app_context():
            from vle.learning.messages import tell_learners

            batch = session.scalar(select(Notification.key)).split(":")[1]
            tell_learners.call_local(course.id, trainer.name, "Bring boots", "Monday.", None, batch)
        assert count(session, Notification) == 4
    finally:
        db.get_database(web).engine.dispose()


def test_a_refused_message_queues_nothing(_database, app, session, make_user, make_course):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    stranger = make_user()
    web = _web(_database)
    try:
        client = web.test_client()
        login(client, trainer.email)
        path = f"/courses/{course.slug}/message"
        token = csrf_token(client, path)
        refused = client.post(
            path,
            data={"csrf_token": token, "subject": "X", "body": "Y", "to": "chosen",
                  "learner": [str(stranger.id)]},
        )  # fmt: skip
        assert refused.status_code == 422
        assert "Choose learners of this course only." in refused.get_data(as_text=True)
        assert huey.pending_count() == 0
        assert count(session, AuditEntry, AuditEntry.action == "course.message") == 0
    finally:
        db.get_database(web).engine.dispose()


LEARNERS = 5_000


def test_a_large_course_answers_at_once(_database, app, session, make_user, make_course, make_org):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    org = make_org()
    session.execute(
        insert(User),
        [
            {"email": f"learner{n}@example.org", "name": f"Learner {n}", "organisation_id": org.id}
            for n in range(LEARNERS)
        ],
    )
    session.flush()
    ids = session.scalars(select(User.id).where(User.email.like("learner%"))).all()
    session.execute(
        insert(Enrolment), [{"user_id": user_id, "course_id": course.id} for user_id in ids]
    )
    session.commit()
    web = _web(_database)
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            statements.append(statement)

    try:
        client = web.test_client()
        login(client, trainer.email)
        path = f"/courses/{course.slug}/message"
        token = csrf_token(client, path)
        event.listen(db.get_database(web).engine, "before_cursor_execute", _count)
        response = client.post(
            path, data={"csrf_token": token, "subject": "Drill", "body": "At 10.", "to": "all"}
        )
        event.remove(db.get_database(web).engine, "before_cursor_execute", _count)
        assert response.status_code == 303
        # A fixed handful of statements: no learner read, nobody told in the request.
        assert len(statements) < 15, statements
        assert not any("notifications" in s or "mail_outbox" in s for s in statements)
        assert huey.pending_count() == 1
        _run_worker_once()
        assert count(session, Notification) == LEARNERS
        assert count(session, OutboxMail) == LEARNERS
        huey.flush()  # their mails' tasks: not for this test
        # The page lists no 5,000 boxes: the learners to choose are found.
        page = client.get(path).get_data(as_text=True)
        assert f"All {LEARNERS} learners of the course" in page
        assert 'name="learner"' not in page and 'role="search"' in page
        found = client.get(path, query_string={"q": " LEARNER 4242 "}).get_data(as_text=True)
        [(learner_id, label)] = re.findall(r'for="learner-(\d+)">([^<]*)<', found)
        assert label == "Learner 4242 (learner4242@example.org)"
        many = client.get(path, query_string={"q": "learner"}).get_data(as_text=True)
        assert many.count('name="learner"') == 200 and "Only the first 200 are listed" in many
        none = client.get(path, query_string={"q": "%"}).get_data(as_text=True)
        assert "No learner of this course matches “%”." in none
        # Writing to the one found; an id no database holds is refused, not a 500.
        sent = client.post(
            path,
            data={"csrf_token": token, "subject": "Hi", "body": "You.", "to": "chosen",
                  "learner": [learner_id], "q": "learner 4242"},
        )  # fmt: skip
        assert sent.status_code == 303
        refused = client.post(
            path,
            data={"csrf_token": token, "subject": "Hi", "body": "You.", "to": "chosen",
                  "learner": [str(10**30)]},
        )  # fmt: skip
        assert refused.status_code == 422
        assert "Choose learners of this course only." in refused.get_data(as_text=True)
        assert huey.pending_count() == 1  # the one message sent
    finally:
        huey.flush()
        db.get_database(web).engine.dispose()


def _run_worker_once():
    queued = huey.dequeue()
    assert queued.name.endswith("tell_learners")
    huey.execute(queued)


def test_with_the_queue_out_of_reach_the_message_is_sent_all_the_same(
    _database, app, session, make_user, make_course, caplog
):
    trainer = make_user("trainer")
    course = make_course(trainers=[trainer])
    ona = make_user(name="Ona")
    learning.enrol(session, ona, course)
    session.commit()
    from tests.conftest import free_port

    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    web = create_app({**_database, "QUEUE_URL": down, "QUEUE_IMMEDIATE": False}, env="test")
    try:
        client = web.test_client()
        login(client, trainer.email)
        path = f"/courses/{course.slug}/message"
        token = csrf_token(client, path)
        response = client.post(
            path, data={"csrf_token": token, "subject": "Hi", "body": "Now.", "to": "all"}
        )
        assert response.status_code == 303
        # Run in the request instead of lost: Ona is told (her mail waits in the outbox).
        assert count(session, Notification, Notification.user_id == ona.id) == 1
        assert count(session, OutboxMail, OutboxMail.sent_at.is_(None)) == 1
        assert "tell_learners could not be queued" in caplog.text
    finally:
        db.get_database(web).engine.dispose()
