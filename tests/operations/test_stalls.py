"""A stalled SMTP server, Redis or queue (one that takes the connection and
never answers) never holds a web request: the page answers within seconds,
and mail waits in the outbox until the worker's sweep sends it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from tests.conftest import post_form
from vle import db
from vle.db import utcnow
from vle.extensions import limiter
from vle.mail import tasks
from vle.mail.models import OutboxMail
from vle.mail.queue import huey


def outbox(app: Flask) -> list[OutboxMail]:
    with db.get_database(app).sessionmaker() as fresh:
        return list(fresh.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def ask_for_a_reset_link(app: Flask) -> tuple[float, str]:
    """Seconds the Forgotten password page took to answer, and its text."""
    client = app.test_client()
    started = time.monotonic()
    response = post_form(
        client, "/password/forgotten", {"email": "ona@example.org"}, page="/password/forgotten"
    )
    took = time.monotonic() - started
    assert response.status_code == 200
    return took, response.text


def run_the_queued_tasks(app: Flask) -> None:
    """What `vle worker` does with the tasks on the queue."""
    with app.app_context():
        while (queued := huey.dequeue()) is not None:
            huey.execute(queued)


def sweep(app: Flask) -> None:
    """The worker's sweep of the outbox, as it runs every minute."""
    with app.app_context():
        tasks.sweep_outbox.call_local()


def test_a_stalled_smtp_server_holds_no_page_and_the_mail_waits_in_the_outbox(
    make_app, make_user, stalled_server, smtp_server
):
    # As in production: the page only queues; the worker talks to SMTP.
    site = make_app(
        QUEUE_URL="memory://",
        QUEUE_IMMEDIATE=False,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=stalled_server.port,
        MAIL_TIMEOUT=1.0,
    )
    make_user(email="ona@example.org")
    took, text = ask_for_a_reset_link(site)
    assert took < 2 and "Check your mail" in text

    # The worker: it gives up on the silent server after MAIL_TIMEOUT.
    started = time.monotonic()
    run_the_queued_tasks(site)
    assert time.monotonic() - started < 4
    [mail] = outbox(site)
    assert mail.kind == "password_reset" and mail.sent_at is None
    assert mail.attempts == 1 and "timed out" in (mail.last_error or "")
    assert mail.next_attempt_at is not None  # waiting, to be tried again

    # A minute later the server answers: the sweep sends it.
    site.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    with db.get_database(site).sessionmaker() as session:
        session.execute(update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    sweep(site)
    [message] = smtp_server.messages
    assert message["To"].addresses[0].addr_spec == "ona@example.org"
    assert "/password/reset/" in message.get_body(("plain",)).get_content()
    [mail] = outbox(site)
    assert mail.sent_at is not None and mail.attempts == 2


def test_a_page_answers_while_the_queue_on_redis_is_stalled_and_the_sweep_sends_its_mail(
    make_app, make_user, stalled_server, smtp_server, caplog
):
    site = make_app(
        QUEUE_URL=f"redis://127.0.0.1:{stalled_server.port}/0",
        QUEUE_IMMEDIATE=False,
        REDIS_TIMEOUT=0.5,
        MAIL_SERVER=smtp_server.host,
        MAIL_PORT=smtp_server.port,
    )
    make_user(email="ona@example.org")
    with caplog.at_level(logging.WARNING, logger="vle.mail"):
        took, text = ask_for_a_reset_link(site)
    assert took < 3 and "Check your mail" in text
    assert "mail_reset_link could not be queued" in caplog.text
    # Written to the outbox in the page's transaction, not sent: nothing to
    # queue its sending on.
    [mail] = outbox(site)
    assert mail.kind == "password_reset" and mail.sent_at is None and mail.attempts == 0
    assert smtp_server.messages == []

    # The next pages do not wait on that Redis again for a while.
    took, text = ask_for_a_reset_link(site)
    assert took < 0.4 and "Check your mail" in text

    sweep(site)
    assert [message["To"].addresses[0].addr_spec for message in smtp_server.messages] == [
        "ona@example.org"
    ] * 2
    assert all(mail.sent_at is not None for mail in outbox(site))


@pytest.fixture
def limits_on_a_stalled_redis(stalled_server) -> Iterator[str]:
    yield f"redis://127.0.0.1:{stalled_server.port}/0"
    # One limiter serves every app of this process: the next test's app,
    # on memory://, counts in its own storage again.
    limiter._storage_dead = False
    fallback = getattr(limiter, "_fallback_storage", None)
    if fallback is not None:
        fallback.reset()


def test_rate_limits_on_a_stalled_redis_fail_open_to_a_count_in_memory(
    make_app, limits_on_a_stalled_redis, caplog
):
    site = make_app(RATELIMIT_STORAGE_URL=limits_on_a_stalled_redis, REDIS_TIMEOUT=0.5)
    client = site.test_client()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        first = client.get("/certificates/verify")
    assert time.monotonic() - started < 3
    assert first.status_code == 200 and "Verify a certificate" in first.text
    assert "Rate limit storage unreachable" in caplog.text
    # Still limited (60 a minute), counted in this worker's memory.
    answers = [client.get("/certificates/verify").status_code for _ in range(60)]
    assert answers[:59] == [200] * 59 and answers[59] == 429
    assert time.monotonic() - started < 8
