"""Sending through an SMTP server that wants STARTTLS and a login (AUTH LOGIN
or PLAIN), as most relays do: a real aiosmtpd server with a self-signed
certificate made here, trusted through VLE_MAIL_TLS_CA_FILE. A wrong
password or an untrusted certificate leaves the mail in the outbox, to be
tried again, and the page that queued it answers as usual."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import update

from tests.conftest import SMTPServer, free_port, post_form
from tests.mail.test_outbox import outbox, queue_message
from vle import db
from vle.db import utcnow
from vle.mail import tasks
from vle.mail.models import OutboxMail

USER, PASSWORD = "vle-relay", "relay-Pa55word"


def _self_signed(tmp_path):
    """A certificate for 127.0.0.1 signed by its own key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vle test relay")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "relay-cert.pem", tmp_path / "relay-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Relay(SMTPServer):
    """The test SMTP server, noting each login tried: (mechanism, user, over TLS, accepted)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.logins: list[tuple[str, str, bool, bool]] = []

    def authenticate(self, _server, session, _envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        accepted = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER.encode()
            and auth_data.password == PASSWORD.encode()
        )
        self.logins.append((mechanism, auth_data.login.decode(), bool(session.ssl), accepted))
        return AuthResult(success=accepted, handled=False)


@pytest.fixture(params=["LOGIN", "PLAIN"])
def relay(request, app, tmp_path):
    """An SMTP server on 127.0.0.1 that takes mail only after STARTTLS and a
    login by `request.param` (the other mechanism not offered)."""
    from aiosmtpd.controller import Controller

    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server = Relay("127.0.0.1", free_port())
    controller = Controller(
        server,
        hostname=server.host,
        port=server.port,
        tls_context=context,
        require_starttls=True,
        authenticator=server.authenticate,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m != request.param],
    )
    controller.start()
    app.config.update(
        MAIL_SERVER=server.host,
        MAIL_PORT=server.port,
        MAIL_TLS=True,
        MAIL_USERNAME=USER,
        MAIL_PASSWORD=PASSWORD,
        MAIL_TLS_CA_FILE=str(cert_file),
    )
    server.mechanism = request.param
    try:
        yield server
    finally:
        controller.stop()


def _queue_and_commit(app):
    with app.app_context():
        db_session = db.session()
        assert queue_message(db_session) is True
        db_session.commit()  # sent now: the test queue runs the task at once


def test_a_mail_goes_through_starttls_and_a_login(app, relay):
    _queue_and_commit(app)
    [message] = relay.messages
    assert message["Subject"] == "Safety day on Friday"
    assert relay.recipients == [["ona@example.org"]]
    # Logged in once, with the mechanism offered, inside the TLS session.
    assert relay.logins == [(relay.mechanism, USER, True, True)]
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


def test_a_certificate_nobody_vouches_for_is_refused_and_the_mail_waits(app, relay):
    app.config["MAIL_TLS_CA_FILE"] = None  # the system's authorities: not this one
    _queue_and_commit(app)
    assert relay.messages == [] and relay.logins == []  # the password never left
    [row] = outbox(app)
    assert row.sent_at is None and row.next_attempt_at is not None
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_a_wrong_password_leaves_the_mail_in_the_outbox_for_the_next_try(
    app, client, make_user, relay
):
    app.config["MAIL_PASSWORD"] = "not the password"
    make_user(email="ona@example.org")
    response = post_form(
        client, "/password/forgotten", {"email": "ona@example.org"}, page="/password/forgotten"
    )
    assert response.status_code == 200 and "Check your mail" in response.text
    assert relay.messages == []
    assert relay.logins == [(relay.mechanism, USER, True, False)]
    [row] = outbox(app)
    assert row.kind == "password_reset" and row.sent_at is None and row.attempts == 1
    assert "SMTPAuthenticationError" in row.last_error
    assert row.next_attempt_at is not None  # to be tried again
    # The administrator puts the right password in; the next try sends it.
    app.config["MAIL_PASSWORD"] = PASSWORD
    with db.get_database(app).sessionmaker() as fresh:
        fresh.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
        fresh.commit()
    with app.app_context():
        tasks.sweep_outbox()
    [message] = relay.messages
    assert message["To"].addresses[0].addr_spec == "ona@example.org"
    [row] = outbox(app)
    assert row.sent_at is not None and row.attempts == 2
