"""Notifications carry RFC 8058's one-click unsubscribe: a signed link whose POST
works without a session or CSRF token, and stops that kind of mail."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.mail.test_outbox import outbox, parts, queue_message
from vle.mail.models import MailOptOut


def unsubscribe_link(message):
    header = message["List-Unsubscribe"]
    match = re.fullmatch(r"<(https?://[^>]+)>", header)
    assert match, header
    return match.group(1)


def opt_outs(session):
    session.rollback()
    return session.execute(select(MailOptOut.address, MailOptOut.kind)).all()


def test_a_notification_carries_the_one_click_headers_and_a_link_in_its_text(
    app, session, smtp_server
):
    app.config["BASE_URL"] = "https://vle.example.lt/"
    with app.app_context():
        queue_message(session, notification=True)
        session.commit()
    [message] = smtp_server.messages
    link = unsubscribe_link(message)
    assert link.startswith("https://vle.example.lt/mail/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # As a mail program reads them: the link itself, on one line, not an encoded word.
    headers = smtp_server.raw[0].split(b"\r\n\r\n")[0].decode("ascii")
    assert f"\r\nList-Unsubscribe: <{link}>\r\n" in headers
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in headers
    text, html = parts(message)
    # The link in the body is signed when the mail is queued, the header's when it is
    # sent: both lead to the same page.
    assert re.search(r"https://vle\.example\.lt/mail/unsubscribe/\S+", text)
    assert 'href="https://vle.example.lt/mail/unsubscribe/' in html


def test_the_one_click_post_needs_no_session_or_csrf_and_stops_that_kind(app, session, smtp_server):
    with app.app_context():
        queue_message(session, notification=True)
        session.commit()
    path = unsubscribe_link(smtp_server.messages[0]).removeprefix(app.config["BASE_URL"])
    client = app.test_client()  # a mail program: no cookie, no token
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "ona@example.org will get no more messages from your trainers" in response.text
    assert opt_outs(session) == [("ona@example.org", "message")]
    # Again (a second click, a retrying mail program): the same answer.
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert opt_outs(session) == [("ona@example.org", "message")]

    with app.app_context():
        assert queue_message(session, key="message:2", notification=True) is False
        # A mail that is not a notification (a password reset) still goes.
        assert queue_message(session, key="message:3") is True
        session.commit()
    assert len(smtp_server.messages) == 2
    assert [row.key for row in outbox(app)] == ["message:1", "message:3"]


def test_opening_the_link_asks_first_and_changes_nothing(app, session, smtp_server):
    with app.app_context():
        queue_message(session, notification=True)
        session.commit()
    path = unsubscribe_link(smtp_server.messages[0]).removeprefix(app.config["BASE_URL"])
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    assert "Stop sending messages from your trainers by mail to ona@example.org?" in page.text
    assert '<form method="post">' in page.text
    assert opt_outs(session) == []
    # The page's button posts the one-click body.
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert opt_outs(session) == [("ona@example.org", "message")]


def test_a_tampered_or_expired_link_is_refused_with_a_page_and_changes_nothing(
    app, session, smtp_server, monkeypatch
):
    with app.app_context():
        queue_message(session, notification=True)
        session.commit()
    path = unsubscribe_link(smtp_server.messages[0]).removeprefix(app.config["BASE_URL"])
    client = app.test_client()
    token = path.rsplit("/", 1)[1]
    payload, _dot, rest = token.partition(".")
    tampered = f"/mail/unsubscribe/{payload[:-2]}xx.{rest}"
    for bad in (tampered, "/mail/unsubscribe/not-a-token", "/mail/unsubscribe/x.y.z"):
        for response in (client.get(bad), client.post(bad)):
            assert response.status_code == 400
            assert "This unsubscribe link is not valid." in response.text
            assert "Nothing was changed." in response.text
    monkeypatch.setattr("vle.mail.services.UNSUBSCRIBE_MAX_AGE_S", -1)
    response = client.post(path)
    assert response.status_code == 400
    assert "This unsubscribe link has expired." in response.text
    assert opt_outs(session) == []
