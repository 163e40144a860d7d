"""Sessions and API tokens end on the server (issue 14, point 3): at Log out, at a
password change or reset, at deactivation, after an idle time and a lifetime in
all; tokens expire, record their last use, are listed and revoked one by one."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD, csrf_token, login, post_form
from vle import db
from vle.accounts import services as accounts
from vle.accounts.models import ApiToken, UserSession
from vle.audit import AuditEntry
from vle.db import utcnow


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(client, value: str) -> None:
    """Put back a session cookie the browser (or a thief) kept."""
    client.set_cookie("session", value)


def _signed_in(client) -> bool:
    return client.get("/my").status_code == 200


def test_a_cookie_kept_from_before_log_out_no_longer_works(client, make_user):
    make_user(email="ona@example.org")
    assert login(client, "ona@example.org").status_code == 302
    kept = _cookie(client)
    assert post_form(client, "/logout", page="/my").status_code == 302
    _replay(client, kept)
    response = client.get("/my")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Your session has ended" in client.get("/login").get_data(as_text=True)


def test_log_out_ends_only_that_session(app, make_user):
    make_user(email="ona@example.org")
    office, phone = app.test_client(), app.test_client()
    login(office, "ona@example.org")
    login(phone, "ona@example.org")
    post_form(office, "/logout", page="/my")
    assert not _signed_in(office)
    assert _signed_in(phone)


def test_a_password_reset_by_an_administrator_ends_sessions_and_tokens(
    app, session, make_user, token_for
):
    admin = make_user(role="admin", email="admin@example.org")
    learner = make_user(email="ona@example.org")
    headers = token_for(learner)
    browser, admin_browser = app.test_client(), app.test_client()
    login(browser, "ona@example.org")
    assert _signed_in(browser)
    login(admin_browser, admin.email)
    response = post_form(
        admin_browser,
        f"/admin/users/{learner.id}",
        {
            "email": learner.email,
            "name": learner.name,
            "role": "learner",
            "organisation": learner.organisation.code,
            "password": "a brand new password",
        },
        page=f"/admin/users/{learner.id}",
    )
    assert response.status_code == 302
    assert not _signed_in(browser)
    assert browser.get("/api/v1/me", headers=headers).status_code == 401
    assert _signed_in(admin_browser)  # the administrator's own session goes on
    # The new password works; the old one no longer does.
    assert login(app.test_client(), "ona@example.org", "a brand new password").status_code == 302
    assert login(app.test_client(), "ona@example.org", PASSWORD).status_code == 200


def test_deactivation_ends_sessions_and_tokens_and_reactivation_brings_none_back(
    app, session, make_user, token_for
):
    admin = make_user(role="admin", email="admin@example.org")
    learner = make_user(email="ona@example.org")
    headers = token_for(learner)
    browser, admin_browser = app.test_client(), app.test_client()
    login(browser, "ona@example.org")
    login(admin_browser, admin.email)
    page = f"/admin/users/{learner.id}"
    assert post_form(admin_browser, f"{page}/deactivate", page=page).status_code == 302
    assert not _signed_in(browser)
    assert post_form(admin_browser, f"{page}/reactivate", page=page).status_code == 302
    assert browser.get("/api/v1/me", headers=headers).status_code == 401
    assert not _signed_in(browser)
    assert session.scalar(select(ApiToken).where(ApiToken.user_id == learner.id)) is None


@pytest.mark.parametrize(
    ("idle", "age", "alive"),
    [
        (timedelta(hours=7, minutes=50), timedelta(days=2), True),
        (timedelta(hours=8, minutes=1), timedelta(days=2), False),  # idle too long
        (timedelta(minutes=5), timedelta(days=30, hours=1), False),  # too old in all
    ],
)
def test_sessions_end_after_8_idle_hours_and_30_days_in_all(
    client, session, make_user, idle, age, alive
):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    now = utcnow()
    session.execute(update(UserSession).values(last_seen_at=now - idle, created_at=now - age))
    session.commit()
    assert _signed_in(client) is alive


def test_session_limits_are_configurable(_database, make_user, session):
    from vle import create_app

    app = create_app({**_database, "SESSION_IDLE_HOURS": 1.0}, env="test")
    client = app.test_client()
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=61)))
    session.commit()
    assert not _signed_in(client)
    db.get_database(app).engine.dispose()


def test_activity_keeps_a_session_alive(client, session, make_user):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    then = utcnow() - timedelta(hours=7)
    session.execute(update(UserSession).values(last_seen_at=then))
    session.commit()
    assert _signed_in(client)
    session.expire_all()
    seen = session.scalar(select(UserSession.last_seen_at))
    assert seen > utcnow() - timedelta(minutes=1)


def test_the_cookie_holds_no_user_secret_the_server_keeps_only_a_hash(client, session, make_user):
    make_user(email="ona@example.org")
    login(client, "ona@example.org")
    stored = session.scalar(select(UserSession))
    assert len(stored.key_hash) == 64


# --- API tokens ---------------------------------------------------------------------


def test_a_token_expires(client, session, make_user, token_for):
    headers = token_for(make_user())
    token = session.scalar(select(ApiToken))
    assert token.expires_at - utcnow() > timedelta(days=364)  # a year by default
    session.commit()  # end the read before the request writes beside it
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_a_token_records_its_last_use(client, session, make_user, token_for):
    headers = token_for(make_user())
    assert session.scalar(select(ApiToken.last_used_at)) is None
    session.commit()
    client.get("/api/v1/me", headers=headers)
    session.expire_all()
    used = session.scalar(select(ApiToken.last_used_at))
    assert used is not None and utcnow() - used < timedelta(minutes=1)
    # A POST records it too, in its own transaction.
    session.execute(update(ApiToken).values(last_used_at=utcnow() - timedelta(days=3)))
    session.commit()
    client.post("/api/v1/courses/nothing/enrolments", headers=headers)
    session.expire_all()
    assert utcnow() - session.scalar(select(ApiToken.last_used_at)) < timedelta(minutes=1)


def test_my_tokens_lists_them_with_last_use_and_revokes_one_by_one(client, session, make_user):
    user = make_user(email="ona@example.org")
    login(client, "ona@example.org")
    created = []
    for name in ("HR system", "My phone"):
        response = post_form(client, "/my/tokens", {"name": name, "days": "90"}, page="/my/tokens")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "it will not be shown again" in page
        token = page.split('<code class="token">')[1].split("</code>")[0]
        created.append({"Authorization": f"Bearer {token}"})
    hr, phone = created
    assert client.get("/api/v1/me", headers=hr).status_code == 200
    page = client.get("/my/tokens").get_data(as_text=True)
    assert "HR system" in page and "My phone" in page and "Never" in page  # the phone's
    tokens = {t.name: t for t in accounts.tokens_of(session, user)}
    assert tokens["My phone"].expires_at - utcnow() < timedelta(days=91)
    response = post_form(client, f"/my/tokens/{tokens['HR system'].id}/revoke", page="/my/tokens")
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=hr).status_code == 401
    assert client.get("/api/v1/me", headers=phone).status_code == 200
    session.commit()  # read afresh
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["token.create", "token.create", "token.revoke"]


def test_nobody_revokes_anothers_token_from_their_own_page(app, session, make_user, token_for):
    owner = make_user(email="ona@example.org")
    headers = token_for(owner)
    token_id = session.scalar(select(ApiToken.id))
    make_user(email="mallory@example.org")
    client = app.test_client()
    login(client, "mallory@example.org")
    assert post_form(client, f"/my/tokens/{token_id}/revoke", page="/my/tokens").status_code == 404
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_an_administrator_sees_and_revokes_a_users_tokens(app, session, make_user, token_for):
    admin = make_user(role="admin", email="admin@example.org")
    learner = make_user(email="ona@example.org")
    headers = token_for(learner)
    token_id = session.scalar(select(ApiToken.id))
    client = app.test_client()
    login(client, admin.email)
    page = client.get(f"/admin/users/{learner.id}").get_data(as_text=True)
    assert "API tokens" in page and "Never" in page
    path = f"/admin/users/{learner.id}/tokens/{token_id}/revoke"
    assert post_form(client, path, page=f"/admin/users/{learner.id}").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_administrator_outside_the_scope_cannot_revoke(app, session, make_org, make_user):
    home, other = make_org("HOME"), make_org("OTHER")
    admin = make_user(role="admin", org=home, email="admin@example.org")
    learner = make_user(org=other, email="ona@example.org")
    accounts.create_token(session, learner)
    session.commit()
    token_id = session.scalar(select(ApiToken.id))
    client = app.test_client()
    login(client, admin.email)
    path = f"/admin/users/{learner.id}/tokens/{token_id}/revoke"
    assert post_form(client, path, page="/my").status_code == 404
    assert session.scalar(select(ApiToken.id)) == token_id


def test_vle_users_token_takes_a_validity(runner, session, make_user):
    make_user(email="ona@example.org")
    result = runner.invoke(["users", "token", "ona@example.org", "--days", "7"])
    assert result.exit_code == 0, result.output
    token = session.scalar(select(ApiToken))
    assert timedelta(days=6) < token.expires_at - utcnow() <= timedelta(days=7)
    result = runner.invoke(["users", "token", "ona@example.org", "--days", "0"])
    assert result.exit_code != 0 and "Traceback" not in result.output


# --- Redirects after sign-in and language changes (point 2) --------------------------

HOSTILE_NEXTS = [
    "//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    " //evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\x00/evil.example",
    "/login\r\nSet-Cookie: x=1",
    "evil.example",
]


def _off_site(response) -> bool:
    """Did the answer send the browser anywhere but a same-site path? (A form
    refused for its control characters sends it nowhere: that is safe too.)"""
    assert response.status_code in (302, 422), response.status_code
    location = response.headers.get("Location")
    return location is not None and location not in ("/my", "/")


@pytest.mark.parametrize("target", HOSTILE_NEXTS)
def test_sign_in_never_redirects_off_the_site(client, make_user, target):
    make_user(email="ona@example.org")
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "email": "ona@example.org",
            "password": PASSWORD,
            "next": target,
            "csrf_token": token,
        },
    )
    assert not _off_site(response)
    if "\x00" not in target and "\n" not in target and "\t" not in target and "\r" not in target:
        assert response.headers["Location"] == "/my"  # signed in, sent home


def test_the_probes_tab_from_the_query_string_is_caught(client, make_user):
    # /login?next=/%09/evil.example: the page carries the decoded "/\t/evil.example"
    # into its form; a browser would follow it as "//evil.example".
    make_user(email="ona@example.org")
    page = client.get("/login?next=/%09/evil.example").get_data(as_text=True)
    hidden = re.search(r'id="next" name="next" type="text" value="([^"]*)"', page)
    assert hidden is not None
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "email": "ona@example.org",
            "password": PASSWORD,
            "next": html.unescape(hidden.group(1)),
            "csrf_token": token,
        },
    )
    assert not _off_site(response)


@pytest.mark.parametrize("target", HOSTILE_NEXTS)
def test_the_language_switcher_never_redirects_off_the_site(client, target):
    token = csrf_token(client, "/courses")
    response = client.post("/language", data={"locale": "lt", "next": target, "csrf_token": token})
    assert not _off_site(response)


def test_same_site_paths_are_kept(client, make_user):
    make_user(email="ona@example.org")
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "email": "ona@example.org",
            "password": PASSWORD,
            "next": "/courses?q=ethics#top",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/courses?q=ethics#top"
