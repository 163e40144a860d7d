"""Mail goes through the outbox: written with the change, sent after commit to
a real SMTP server (tests/conftest.py's smtp_server), once, in the recipient's
language, retried while the server is down."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import free_port, login, post_form
from vle import db
from vle.db import utcnow
from vle.mail import services, tasks
from vle.mail.models import OutboxMail
from vle.mail.queue import huey


def queue_message(session, key="message:1", locale="en", notification=False, **context):
    values = {
        "subject": "Safety day on Friday",
        "body": "Bring your badge.\nWe start at 9.\n\nSee you <there> & then.",
        "sender_name": "Tomas Treneris",
        "course_title": "Saugus darbas",
        **context,
    }
    return services.queue_mail(
        session,
        key=key,
        to_address="ona@example.org",
        to_name="Ona Petraitienė",
        locale=locale,
        kind="message",
        context=values,
        notification=notification,
    )


def outbox(app):
    with db.get_database(app).sessionmaker() as fresh:
        return fresh.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()


def parts(message):
    """The text and the HTML part of a multipart/alternative mail."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_a_mail_is_written_in_the_callers_transaction_and_not_sent_if_it_rolls_back(
    app, session, smtp_server
):
    with app.app_context():
        assert queue_message(session) is True
        assert outbox(app) == []  # not committed: no one else sees it
        session.rollback()
    assert outbox(app) == []
    with app.app_context():  # a later commit of the same session sends nothing
        session.commit()
    assert smtp_server.messages == []


def test_after_commit_it_is_sent_with_text_and_html_in_the_recipients_language(
    app, session, smtp_server
):
    with app.app_context():
        assert queue_message(session, locale="lt") is True
        assert smtp_server.messages == []  # nothing leaves before the commit
        session.commit()
    [message] = smtp_server.messages
    assert message["To"] == "Ona Petraitienė <ona@example.org>"
    [sender] = message["From"].addresses  # under the site's name
    assert (sender.display_name, sender.addr_spec) == ("vle", app.config["MAIL_SENDER"])
    assert message["Subject"] == "Safety day on Friday"
    assert message["Content-Language"] == "lt"
    assert "List-Unsubscribe" not in message  # not a notification
    text, html = parts(message)
    assert "Kursas: Saugus darbas" in text
    assert "Bring your badge.\nWe start at 9.\n\nSee you <there> & then." in text
    assert '<html lang="lt">' in html
    assert "Kursas: Saugus darbas" in html
    # The trainer's text is text: escaped, its lines and paragraphs kept.
    assert "<p>Bring your badge.<br>\nWe start at 9.</p>" in html
    assert "See you &lt;there&gt; &amp; then." in html
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 1 and row.next_attempt_at is None


def test_a_savepoint_inside_the_transaction_neither_sends_nor_forgets_the_mail(
    app, session, smtp_server
):
    """SQLAlchemy reports a savepoint's end as a commit or a rollback too: the
    mail must still wait for the real commit (sending it sooner would, on
    SQLite, wait on the caller's own write lock), and survive the rollback of
    a savepoint it was not written in."""
    with app.app_context():
        assert queue_message(session) is True
        with session.begin_nested():
            session.flush()
        try:
            with session.begin_nested():
                raise RuntimeError("a savepoint given up")
        except RuntimeError:
            pass
        assert smtp_server.messages == []
        session.commit()
    [message] = smtp_server.messages
    assert message["Subject"] == "Safety day on Friday"


@pytest.mark.parametrize(("locale", "word"), [("en", "Course"), ("pl", "Kurs"), ("nb", "Kurs")])
def test_each_language_and_the_default_for_none(app, session, smtp_server, locale, word):
    with app.app_context():
        queue_message(session, key="a", locale=locale)
        queue_message(session, key="b", locale=None)
        session.commit()
    first, default = smtp_server.messages
    assert f"{word}: Saugus darbas" in parts(first)[0]
    assert first["Content-Language"] == locale
    assert default["Content-Language"] == "en"
    assert "Course: Saugus darbas" in parts(default)[0]


def test_the_same_key_twice_sends_once(app, session, smtp_server):
    with app.app_context():
        assert queue_message(session, key="message:7") is True
        session.commit()
        assert queue_message(session, key="message:7", subject="Again") is False
        session.commit()
        # A task run again (a retry, the sweep) finds nothing left to send.
        [row] = outbox(app)
        assert tasks.deliver(row.id) is None
        tasks.sweep_outbox()
    assert [m["Subject"] for m in smtp_server.messages] == ["Safety day on Friday"]


def test_with_the_smtp_server_down_the_mail_waits_and_the_sweep_sends_it_later(
    app, session, smtp_server
):
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    with app.app_context():
        assert queue_message(session) is True
        session.commit()  # the commit (and so the request) succeeds
    [row] = outbox(app)
    assert row.sent_at is None
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    # Tried again a minute later, not before.
    assert timedelta(seconds=50) < row.next_attempt_at - utcnow() <= timedelta(minutes=1)
    with app.app_context():
        tasks.sweep_outbox()
    assert outbox(app)[0].attempts == 1  # not due yet: not tried

    app.config["MAIL_PORT"] = smtp_server.port  # the server is back
    session.execute(update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    with app.app_context():
        tasks.sweep_outbox()
    [message] = smtp_server.messages
    assert message["Subject"] == "Safety day on Friday"
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 2 and row.next_attempt_at is None


def test_failed_attempts_back_off_and_stop_after_the_last(app, session):
    app.config["MAIL_PORT"] = free_port()
    waits = []
    with app.app_context():
        queue_message(session)
        session.commit()  # the first attempt
        while (row := outbox(app)[0]).next_attempt_at is not None:
            waits.append(round((row.next_attempt_at - utcnow()).total_seconds() / 60))
            session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
            session.commit()
            assert tasks.deliver(row.id) == tasks.UNREACHABLE
    assert waits == [1, 2, 4, 8, 16, 32] + [60] * (tasks.MAX_ATTEMPTS - 7)
    assert row.attempts == tasks.MAX_ATTEMPTS and row.sent_at is None  # given up


def test_a_recipient_refused_for_good_is_not_tried_again(app, session, smtp_server):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such mailbox"

    smtp_server.handle_RCPT = refuse
    with app.app_context():
        queue_message(session)
        session.commit()
    [row] = outbox(app)
    assert row.sent_at is None and row.next_attempt_at is None
    assert "No such mailbox" in row.last_error


def test_erasing_a_person_forgets_their_mails_and_opt_outs(app, session, smtp_server):
    with app.app_context():
        queue_message(session)
        services.queue_mail(
            session,
            key="other",
            to_address="jonas@example.org",
            to_name="Jonas",
            locale="lt",
            kind="message",
            context={"subject": "Hi", "body": "Hello", "sender_name": "Tomas"},
        )
        services.opt_out(session, "Ona@Example.org", "message")
        session.commit()
        services.forget_address(session, "ONA@example.org")
        session.commit()
        assert not services.is_opted_out(session, "ona@example.org", "message")
    assert [row.to_address for row in outbox(app)] == ["jonas@example.org"]


def test_a_page_that_queues_a_mail_answers_while_the_smtp_server_is_down(
    app, client, make_user, smtp_server
):
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    make_user(email="ona@example.org")
    response = post_form(
        client, "/password/forgotten", {"email": "ona@example.org"}, page="/password/forgotten"
    )
    assert response.status_code == 200
    assert "Check your mail" in response.text
    [row] = outbox(app)
    assert row.kind == "password_reset" and row.sent_at is None
    assert row.attempts == 1 and "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at is not None  # it waits, to be tried again


def test_a_signed_in_request_that_has_written_queues_a_mail_in_its_transaction(
    app, session, make_user, smtp_server
):
    """As a trainer's page would: the request holds the write lock (SQLite) and
    its signed-in user; rendering the mail needs neither again."""
    from flask_login import current_user
    from sqlalchemy import update as sql_update

    from vle.accounts.models import User

    def send() -> str:
        db_session = db.session()
        db_session.execute(sql_update(User).values(timezone="Europe/Oslo"))
        queue_message(db_session, locale="nb", sender_name=current_user.name)
        db_session.commit()
        return "sent"

    app.add_url_rule("/test/send", "test_send", send, methods=["POST"])
    trainer = make_user("trainer", email="tomas@example.org", name="Tomas Treneris")
    client = app.test_client()
    assert login(client, "tomas@example.org").status_code == 302
    page = client.get("/courses")  # a page in English, for the trainer
    assert page.status_code == 200 and "Courses" in page.text
    assert post_form(client, "/test/send").text == "sent"
    [message] = smtp_server.messages
    assert "Kurs: Saugus darbas" in parts(message)[0]  # the recipient's language
    assert message["Content-Language"] == "nb"
    session.refresh(trainer)
    assert trainer.timezone == "Europe/Oslo"


def test_the_worker_sweeps_the_outbox_every_minute(app):
    for minute in (0, 1, 37):
        due = [task.name for task in huey.read_periodic(datetime(2026, 12, 6, 9, minute))]
        assert "sweep_outbox" in due
