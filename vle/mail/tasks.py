"""Sending the outbox: a task per mail, queued once the transaction that wrote
it has committed, and a sweep every minute that sends whatever is due (a mail
whose task was lost, or whose earlier attempt failed).

A mail is claimed before it is sent: one UPDATE moves its `next_attempt_at` a
lease ahead and counts the attempt, and only the worker whose UPDATE matched
sends it. The task and the sweep, or two workers, never send the same mail
twice (a worker that dies between sending and recording sends it once more,
after the lease, with the same Message-ID). A failed attempt is tried again
after 1, 2, 4, … minutes (at most an hour apart) up to MAX_ATTEMPTS; an
address the server refuses for good is not tried again.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from vle import db
from vle.db import utcnow
from vle.mail import queue
from vle.mail.models import OutboxMail
from vle.mail.services import QUEUED, queue_digests, unsubscribe_link

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than an SMTP conversation can take (MAIL_TIMEOUT a step)
MAX_ATTEMPTS = 30  # about a day of retries at most an hour apart
SWEEP_BATCH = 200

SENT, FAILED, UNREACHABLE = "sent", "failed", "unreachable"

# Lines of up to 998 characters, as RFC 5322 allows: folded at 78, the long
# unsubscribe link was written as an encoded word, which no mail program reads
# as the address it is.
POLICY = SMTP.clone(max_line_length=998)


def init_app(app: Flask) -> None:
    queue.init_app(app)
    sessions = db.get_database(app).sessionmaker
    event.listen(sessions, "after_commit", _send_after_commit)
    event.listen(sessions, "after_rollback", _forget_queued)


def _forget_queued(db_session: Session) -> None:
    if db_session.in_nested_transaction():
        return  # a savepoint rolled back: the transaction that wrote the mails goes on
    db_session.info.pop(QUEUED, None)


def _send_after_commit(db_session: Session) -> None:
    """The transaction that wrote these mails has committed: queue a task
    for each. Should the queue be out of reach (a stalled Redis: REDIS_TIMEOUT
    once, not once a mail), the request still succeeds and the sweep sends
    them within a minute or so."""
    if db_session.in_nested_transaction():
        # SQLAlchemy says "commit" of a savepoint too; the mails' rows are not
        # committed yet (and on SQLite, sending now would wait on our own lock).
        return
    for mail_id in db_session.info.pop(QUEUED, ()):
        try:
            queued = queue.enqueue(send_mail, mail_id)
        except Exception:  # immediate mode: the sending itself failed
            logger.exception("mail %s: not sent; the sweep will try again", mail_id)
            continue
        if not queued:
            logger.warning("mail %s: not queued; the sweep will send it", mail_id)


@queue.task()
def send_mail(mail_id: int) -> str | None:
    return deliver(mail_id)


@queue.periodic_task(queue.crontab(minute="*"))
def sweep_outbox() -> None:
    """Send every mail that is due, oldest first; stop at an unreachable
    server (the rest wait for the next sweep)."""
    db_session = db.session()
    due = db_session.scalars(
        select(OutboxMail.id)
        .where(OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(SWEEP_BATCH)
    ).all()
    db_session.rollback()  # end the read before the writes below
    for mail_id in due:
        if deliver(mail_id) == UNREACHABLE:
            break


@queue.periodic_task(queue.crontab(minute="0", hour="6"))
def send_digests() -> int:
    """The daily digest: one mail per person listing the notifications whose
    kinds they chose to get once a day."""
    with db.transaction() as db_session:
        return queue_digests(db_session)


def deliver(mail_id: int) -> str | None:
    """Send outbox mail `mail_id` if it is due and no one else is sending it.
    Returns SENT, FAILED (to be retried, or given up), UNREACHABLE (the
    server did not answer: retried) or None (nothing to do)."""
    now = utcnow()
    with db.transaction() as db_session:
        claimed = db_session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id, OutboxMail.next_attempt_at <= now)
            .values(attempts=OutboxMail.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        mail = db_session.get_one(OutboxMail, mail_id, populate_existing=True)
    try:
        _send(_message(mail, now))
    except Exception as error:
        unreachable = _unreachable(error)
        permanent = _refused_for_good(error)
        retry = not permanent and mail.attempts < MAX_ATTEMPTS
        logger.warning("mail %s (attempt %s) not sent: %s", mail_id, mail.attempts, error)
        with db.transaction() as db_session:
            db_session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id)
                .values(
                    last_error=f"{type(error).__name__}: {error}"[:500],
                    next_attempt_at=_backoff(mail.attempts) if retry else None,
                )
                .execution_options(synchronize_session=False)
            )
        return UNREACHABLE if unreachable else FAILED
    with db.transaction() as db_session:
        db_session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id)
            .values(sent_at=utcnow(), next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
    return SENT


def _backoff(attempts: int) -> datetime:
    return utcnow() + timedelta(minutes=min(2 ** (attempts - 1), 60))


def _unreachable(error: Exception) -> bool:
    """No SMTP server answered (down, refused, timed out, hung up)."""
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return True
    # smtplib's own errors are OSErrors too: those are the server's answers.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _refused_for_good(error: Exception) -> bool:
    """The server refused the recipient with a permanent (5xx) answer, or
    the address cannot be written in a mail at all."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    if isinstance(error, ssl.SSLError):  # a ValueError too: the server's, not the address's
        return False
    return isinstance(error, MessageError | ValueError)


def _message(mail: OutboxMail, now: datetime) -> EmailMessage:
    config = current_app.config
    message = EmailMessage(policy=POLICY)
    message["Subject"] = mail.subject
    sender = config["MAIL_SENDER"]
    # A bare address is shown under the site's name (a sender given as
    # "Name <address>" keeps its own).
    message["From"] = sender if "<" in sender else Address(config["SITE_NAME"], addr_spec=sender)
    message["To"] = Address(display_name=mail.to_name, addr_spec=mail.to_address)
    message["Date"] = format_datetime(now)
    sender_domain = config["MAIL_SENDER"].rpartition("@")[2].rstrip(">") or "localhost"
    # The same for every attempt: a receiver can tell a repeat from a new mail.
    digest = hashlib.sha256(mail.key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{sender_domain}>"
    message["Auto-Submitted"] = "auto-generated"
    if mail.notification:
        message["List-Unsubscribe"] = f"<{unsubscribe_link(mail.to_address, mail.kind, mail.key)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    message["Content-Language"] = mail.locale  # after the content, which clears Content-*
    return message


def _send(message: EmailMessage) -> None:
    config: Any = current_app.config
    server, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    with smtplib.SMTP(server, port, timeout=timeout) as smtp:
        if config["MAIL_TLS"]:
            smtp.starttls(context=ssl.create_default_context(cafile=config["MAIL_TLS_CA_FILE"]))
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
