"""Background work of accounts: the reset link asked for on Forgotten your
password? is looked up and mailed by the worker, so that the page answers in
the same time whether or not the address has an account."""

from __future__ import annotations

from vle import db
from vle.accounts import passwords
from vle.mail.queue import task


@task(retries=3, retry_delay=30)
def mail_reset_link(email: str, address: str | None, locale: str | None) -> None:
    """Queued by the page once the request has been counted (and committed)."""
    with db.transaction() as db_session:
        passwords.send_reset_link(db_session, email, address, locale)
