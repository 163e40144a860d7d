"""Passwords people set themselves (issue 15, point 2): Forgotten your password?
through a real SMTP server, single-use expiring links, Change password, the
must-change detour and the rules a new password must pass."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import PASSWORD, csrf_token, login, post_form
from vle.accounts import passwords
from vle.accounts.models import ApiToken, PasswordLink, User, UserSession
from vle.audit import AuditEntry
from vle.db import utcnow

NEW = "a long and fresh password"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/password/(?:reset|invitation)/[A-Za-z0-9_-]+)")


def link_in(message) -> str:
    """The link's path in a mail: the same in its plain text and its HTML."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    path = LINK.search(text).group(1)
    assert path in html
    return path


def ask_reset(client, email: str):
    token = csrf_token(client, "/password/forgotten")
    return client.post("/password/forgotten", data={"email": email, "csrf_token": token})


def set_password(client, path: str, password: str = NEW, again: str | None = None):
    token = csrf_token(client, path)
    data = {"password": password, "password_again": again or password, "csrf_token": token}
    return client.post(path, data=data)


def errors(response) -> list[str]:
    return re.findall(r'<p class="error" id="[^"]+">([^<]*)</p>', response.get_data(as_text=True))


def actions(session, user: User) -> list[str]:
    session.rollback()
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def signed_in(client) -> bool:
    return client.get("/my").status_code == 200


# --- Forgotten your password? -------------------------------------------------------------


def test_a_reset_link_by_mail_sets_the_password_once(app, client, session, make_user, smtp_server):
    user = make_user(email="ona@example.org", name="Ona Žemaitė")
    user.locale = "lt"
    session.commit()
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgotten">Forgotten your password?</a>' in login_page
    form = client.get("/password/forgotten").get_data(as_text=True)
    assert 'for="email">Email</label>' in form and "Send reset link" in form

    response = ask_reset(client, "Ona@Example.org")
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    [mail] = smtp_server.messages
    assert smtp_server.recipients == [["ona@example.org"]]
    # In the account's language (Lithuanian), whatever the page was read in.
    assert mail["Content-Language"] == "lt"
    assert '<html lang="lt">' in mail.get_body(("html",)).get_content()
    assert "Ona Žemaitė" in mail.get_body(("plain",)).get_content()
    path = link_in(mail)
    assert path.startswith("/password/reset/")
    # Only a hash of the token is stored.
    stored = session.scalar(select(PasswordLink))
    assert stored.purpose == "reset" and path.rsplit("/", 1)[1] not in stored.token_hash
    assert timedelta(hours=1, minutes=59) < stored.expires_at - utcnow() <= timedelta(hours=2)

    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'for="password">New password</label>' in text
    assert 'for="password_again">Repeat new password</label>' in text
    assert 'autocomplete="new-password"' in text and "Set password" in text

    response = set_password(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert login(app.test_client(), "ona@example.org", NEW).status_code == 302
    assert login(app.test_client(), "ona@example.org", PASSWORD).status_code == 200
    assert actions(session, user)[-2:] == ["user.password_reset_request", "user.password_reset"]

    # Used once: the second time is a clear page, and changes nothing.
    again = client.get(path)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert set_password(client, path, "yet another password!").status_code == 410
    assert login(app.test_client(), "ona@example.org", NEW).status_code == 302


def test_an_unknown_address_gets_the_same_page_and_no_mail(client, session, make_user, smtp_server):
    make_user(email="ona@example.org")
    known = ask_reset(client, "ona@example.org")
    unknown = ask_reset(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200

    def main(response, email: str) -> str:
        text = response.get_data(as_text=True)
        return text.split('<main id="main"')[1].replace(email, "ADDRESS")

    assert main(known, "ona@example.org") == main(unknown, "nobody@example.org")
    assert len(smtp_server.messages) == 1
    assert session.scalar(select(func.count(PasswordLink.id))) == 1


def test_the_page_does_the_same_work_for_any_address(client, make_user, monkeypatch, count_queries):
    """The page counts the request and queues it; the lookup and the mail are
    the worker's. So the page runs the same statements, in the same time,
    whether or not the address has an account."""
    from vle.accounts import tasks

    queued = []
    monkeypatch.setattr(tasks, "mail_reset_link", lambda *args: queued.append(args))
    make_user(email="ona@example.org")
    statements = []
    for email in ("ona@example.org", "nobody@example.org"):
        token = csrf_token(client, "/password/forgotten")
        with count_queries() as counter:
            response = client.post(
                "/password/forgotten", data={"email": email, "csrf_token": token}
            )
        assert response.status_code == 200
        statements.append(counter.statements)
    assert statements[0] == statements[1]
    assert [args[0] for args in queued] == ["ona@example.org", "nobody@example.org"]


def test_an_account_without_a_language_gets_the_pages_language(client, make_user, smtp_server):
    make_user(email="ona@example.org")
    client.get("/password/forgotten", headers={"Accept-Language": "pl"})
    token = csrf_token(client, "/password/forgotten")
    client.post(
        "/password/forgotten",
        data={"email": "ona@example.org", "csrf_token": token},
        headers={"Accept-Language": "pl"},
    )
    assert smtp_server.messages[0]["Content-Language"] == "pl"


def test_a_deactivated_account_gets_no_link(client, session, make_user, smtp_server):
    user = make_user(email="ona@example.org")
    user.active = False
    session.commit()
    assert ask_reset(client, "ona@example.org").status_code == 200
    assert smtp_server.messages == []


def test_an_expired_link_is_refused_and_changes_nothing(
    app, client, session, make_user, smtp_server
):
    make_user(email="ona@example.org")
    ask_reset(client, "ona@example.org")
    path = link_in(smtp_server.messages[0])
    token = csrf_token(client, path)
    session.execute(update(PasswordLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    page = client.get(path)
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    response = client.post(path, data={"password": NEW, "password_again": NEW, "csrf_token": token})
    assert response.status_code == 410
    assert login(app.test_client(), "ona@example.org", PASSWORD).status_code == 302


def test_the_reset_link_lifetime_is_configurable(app, client, session, make_user, smtp_server):
    app.config["PASSWORD_RESET_HOURS"] = 0.5
    make_user(email="ona@example.org")
    ask_reset(client, "ona@example.org")
    stored = session.scalar(select(PasswordLink))
    assert stored.expires_at - utcnow() <= timedelta(minutes=30)
    assert "for 0.5 hours" in smtp_server.messages[0].get_body(("plain",)).get_content()


def test_an_unknown_or_altered_link_is_a_clear_404(client, make_user):
    response = client.get("/password/reset/not-a-real-token-at-all")
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_a_newer_link_voids_the_older_one(app, client, make_user, smtp_server):
    make_user(email="ona@example.org")
    ask_reset(client, "ona@example.org")
    ask_reset(client, "ona@example.org")
    older, newer = (link_in(mail) for mail in smtp_server.messages)
    assert client.get(older).status_code == 410
    assert set_password(client, newer).status_code == 302


def test_a_reset_ends_every_session_and_token(app, session, make_user, token_for, smtp_server):
    user = make_user(email="ona@example.org")
    headers = token_for(user)
    office = app.test_client()
    login(office, "ona@example.org")
    assert signed_in(office)
    browser = app.test_client()
    ask_reset(browser, "ona@example.org")
    assert set_password(browser, link_in(smtp_server.messages[0])).status_code == 302
    assert not signed_in(office)
    assert office.get("/api/v1/me", headers=headers).status_code == 401
    session.rollback()
    assert session.scalar(select(func.count(UserSession.id))) == 0
    assert session.scalar(select(func.count(ApiToken.id))) == 0


def test_reset_requests_are_limited_per_address_asked_for(app, make_user, smtp_server):
    make_user(email="ona@example.org")
    for n in range(3):  # PASSWORD_RESET_LIMIT_PER_EMAIL, from different clients
        client = app.test_client()
        response = ask_reset(client, "ona@example.org")
        assert response.status_code == 200, n
    refused = ask_reset(app.test_client(), "ONA@example.org")
    assert refused.status_code == 429
    assert "Too many reset links asked for" in refused.get_data(as_text=True)
    assert len(smtp_server.messages) == 3


def test_reset_requests_are_limited_per_client_address(app, make_user, smtp_server):
    app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"] = 2
    make_user(email="ona@example.org")
    client = app.test_client()
    assert ask_reset(client, "someone@example.org").status_code == 200
    assert ask_reset(client, "other@example.org").status_code == 200
    # The account exists, but the client has asked too often: no mail.
    assert ask_reset(client, "ona@example.org").status_code == 429
    assert smtp_server.messages == []


def test_the_reset_page_refuses_a_weak_or_mistyped_password(app, client, make_user, smtp_server):
    make_user(email="ona.zemaite@example.org", name="Ona Žemaitė")
    ask_reset(client, "ona.zemaite@example.org")
    path = link_in(smtp_server.messages[0])
    for password, again, reason in [
        ("short", None, "at least 10 characters"),
        ("ona.zemaite@example.org", None, "must not be your email address"),
        ("Ona Žemaitė", None, "must not be your name"),
        ("Password123", None, "most common passwords"),
        (NEW, NEW + "x", "The two passwords are not the same"),
    ]:
        response = set_password(client, path, password, again)
        assert response.status_code == 422, password
        assert any(reason in error for error in errors(response)), (password, errors(response))
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    # Nothing changed, and the link still works.
    assert login(app.test_client(), "ona.zemaite@example.org", PASSWORD).status_code == 302
    assert set_password(client, path).status_code == 302


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("123456789", "at least 10"),
        ("x" * 1001, "at most 1000"),
        ("ONA@example.org", "email address"),
        ("ona", "at least 10"),
        ("onaonaonaona@example.org", None),
        ("Ona  Žemaitė  Jonaitienė", "name"),
        ("qwertyuiop", "common"),
        ("Slaptažodis", "common"),
        ("correct horse battery staple", None),
    ],
)
def test_the_rules_for_a_new_password(password, reason):
    user = User(email="ona@example.org", name="Ona Žemaitė Jonaitienė")
    if reason is None:
        passwords.check_new_password(password, user)
        return
    with pytest.raises(passwords.WeakPassword) as error:
        passwords.check_new_password(password, user)
    assert reason in str(error.value.message)


def test_new_forms_refuse_a_post_without_a_csrf_token(app, client, make_user, smtp_server):
    make_user(email="ona@example.org")
    response = client.post("/password/forgotten", data={"email": "ona@example.org"})
    assert response.status_code == 400 and smtp_server.messages == []
    ask_reset(client, "ona@example.org")
    path = link_in(smtp_server.messages[0])
    assert client.post(path, data={"password": NEW, "password_again": NEW}).status_code == 400
    login(client, "ona@example.org")
    data = {"current": PASSWORD, "password": NEW, "password_again": NEW}
    assert client.post("/my/password", data=data).status_code == 400
    assert login(app.test_client(), "ona@example.org", PASSWORD).status_code == 302


# --- Change password ----------------------------------------------------------------------


def change(client, current: str = PASSWORD, new: str = NEW, again: str | None = None, path=None):
    token = csrf_token(client, "/my/password")
    data = {"current": current, "password": new, "password_again": again or new}
    return client.post(path or "/my/password", data={**data, "csrf_token": token})


def test_change_password_is_linked_from_the_header_and_my_data(client, make_user):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    for page in ("/my", "/my/data"):
        assert 'href="/my/password"' in client.get(page).get_data(as_text=True)
    form = client.get("/my/password").get_data(as_text=True)
    assert 'for="current">Current password</label>' in form
    assert 'autocomplete="current-password"' in form
    assert 'for="password">New password</label>' in form


def test_change_password_needs_signing_in(client):
    response = client.get("/my/password")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_wrong_current_password_is_refused(app, client, session, make_user):
    user = make_user(email="ona@example.org")
    login(client, "ona@example.org")
    response = change(client, current="not my password at all")
    assert response.status_code == 422
    assert "This is not your current password." in errors(response)
    assert login(app.test_client(), "ona@example.org", PASSWORD).status_code == 302
    assert "user.password_change" not in actions(session, user)


def test_a_weak_new_password_is_refused_with_its_reason(client, make_user):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    response = change(client, new="1234567890")
    assert response.status_code == 422 and any("common" in e for e in errors(response))
    response = change(client, new=PASSWORD)
    assert response.status_code == 422
    assert "The new password must differ from the current one." in errors(response)


def test_changing_ends_the_other_sessions_and_tokens_but_keeps_this_one(
    app, session, make_user, token_for
):
    user = make_user(email="ona@example.org")
    headers = token_for(user)
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "ona@example.org")
    login(elsewhere, "ona@example.org")
    response = change(here)
    assert response.status_code == 302 and response.headers["Location"] == "/my"
    assert signed_in(here)
    assert not signed_in(elsewhere)
    assert here.get("/api/v1/me", headers=headers).status_code == 401
    assert login(app.test_client(), "ona@example.org", NEW).status_code == 302
    assert actions(session, user)[-1] == "user.password_change"
    assert session.scalar(select(func.count(ApiToken.id))) == 0


def test_guessing_the_current_password_is_limited_like_signing_in(app, client, make_user):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    for _ in range(5):  # SIGN_IN_LIMIT_PER_ACCOUNT
        assert change(client, current="a wrong guess!").status_code == 422
    assert change(client).status_code == 429
    assert login(app.test_client(), "ona@example.org", PASSWORD).status_code == 429


# --- Must change at first sign-in ------------------------------------------------------------


def test_must_change_sends_every_page_to_change_password_until_done(
    app, client, session, make_user
):
    user = make_user(email="ona@example.org")
    user.must_change_password = True
    session.commit()
    response = login(client, "ona@example.org")
    assert response.status_code == 302
    for page in ("/my", "/courses", "/my/tokens"):
        detour = client.get(page)
        assert detour.status_code == 302, page
        assert detour.headers["Location"].startswith("/my/password")
    detour = client.get("/courses")
    assert detour.headers["Location"] == "/my/password?next=/courses"
    page = client.get("/my/password").get_data(as_text=True)
    assert "Please choose a password of your own" in page
    # Log out still works.
    assert post_form(client, "/logout", page="/my/password").status_code == 302
    login(client, "ona@example.org")
    response = change(client, path="/my/password?next=/courses")
    assert response.status_code == 302 and response.headers["Location"] == "/courses"
    assert client.get("/my").status_code == 200
    session.expire_all()
    assert session.get(User, user.id).must_change_password is False


def test_the_api_is_not_detoured(client, session, make_user, token_for):
    user = make_user(email="ona@example.org")
    user.must_change_password = True
    session.commit()
    assert client.get("/api/v1/me", headers=token_for(user)).status_code == 200
