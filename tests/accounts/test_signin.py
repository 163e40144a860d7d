from __future__ import annotations

import re

from tests.conftest import PASSWORD, csrf_token, login


def test_sign_in_and_out(client, make_user):
    user = make_user(email="ona@example.org", name="Ona Petraitienė")
    response = login(client, "ona@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/my"
    page = client.get("/my").get_data(as_text=True)
    assert "Ona Petraitienė" in page
    assert ">Log out<" in page
    token = csrf_token(client, "/my")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/my").status_code == 302  # back to the login page
    assert user.password_hash.startswith("scrypt:")


def test_email_is_case_insensitive(client, make_user):
    make_user(email="jonas@example.org")
    assert login(client, "  Jonas@Example.ORG ").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make_user):
    make_user(email="ona@example.org")
    wrong = login(client, "ona@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/my").status_code == 302


def test_deactivated_user_with_the_right_password_is_told_to_contact_their_administrator(
    client, make_user, session
):
    user = make_user(email="gone@example.org")
    user.active = False
    session.commit()
    page = login(client, "gone@example.org").get_data(as_text=True)
    assert "Your account has been deactivated" in page
    assert "contact your organisation&#39;s administrator" in page
    assert "Wrong email or password." not in page
    assert client.get("/my").status_code == 302  # not signed in


def test_a_wrong_password_for_a_deactivated_account_reveals_nothing(client, make_user, session):
    user = make_user(email="gone@example.org")
    user.active = False
    session.commit()
    page = login(client, "gone@example.org", "not the password").get_data(as_text=True)
    assert "Wrong email or password." in page and "deactivated" not in page


def test_a_refused_sign_in_is_the_forms_error_not_the_password_fields(client, make_user):
    make_user(email="ona@example.org")
    page = login(client, "ona@example.org", "not the password").get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert summary, "the error is announced in a summary above the form"
    assert "Check your email address and your password" in summary.group(1)
    assert 'href="#email"' in summary.group(1) and 'href="#password"' in summary.group(1)
    assert "aria-invalid" not in page  # neither field is marked wrong on its own
    assert 'class="field field-error"' not in page
    # It takes the focus as the page opens (no script needed), and offers a new password.
    assert re.search(r'<div class="error-summary" role="alert"[^>]*\bautofocus\b', page)
    assert 'href="/password/forgotten">Forgotten your password?</a></li>' in summary.group(1)


def test_an_empty_sign_in_form_marks_the_fields_that_are_empty(client):
    page = client.post(
        "/login", data={"email": "", "password": "", "csrf_token": csrf_token(client)}
    ).get_data(as_text=True)
    assert page.count('aria-invalid="true"') == 2  # each field says what is missing
    assert re.search(r'<div class="error-summary" role="alert"[^>]*\bautofocus\b', page)
    assert 'href="#email"' in page and 'href="#password"' in page


def test_a_deactivated_account_is_told_without_the_fields_being_blamed(client, make_user, session):
    user = make_user(email="gone@example.org")
    user.active = False
    session.commit()
    page = login(client, "gone@example.org").get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert summary and "Your account has been deactivated" in summary.group(1)
    assert 'href="#password"' not in summary.group(1) and "aria-invalid" not in page


def test_sign_in_errors_are_in_the_readers_language(client, make_user, session):
    said = {
        "lt": ("Neteisingas el. pašto adresas arba slaptažodis.", "Jūsų paskyra išjungta."),
        "pl": ("Nieprawidłowy adres e-mail lub hasło.", "Twoje konto zostało dezaktywowane."),
        "nb": ("Feil e-postadresse eller passord.", "Kontoen din er deaktivert."),
    }
    for language, (wrong, deactivated) in said.items():
        make_user(email=f"gone-{language}@example.org").active = False
        session.commit()
        headers = {"Accept-Language": language}
        token = csrf_token(client)
        for password, expected in (("not the password", wrong), (PASSWORD, deactivated)):
            page = client.post(
                "/login",
                data={
                    "email": f"gone-{language}@example.org",
                    "password": password,
                    "csrf_token": token,
                },
                headers=headers,
            ).get_data(as_text=True)
            assert f'<html lang="{language}">' in page and expected in page, (language, password)


def test_sixth_failed_sign_in_within_a_minute_is_refused(client, make_user):
    make_user(email="ona@example.org")
    for _ in range(5):
        assert login(client, "ona@example.org", "wrong password").status_code == 200
    response = login(client, "ona@example.org", PASSWORD)  # even the right password waits
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    # Said on the sign-in form itself, announced, so the person can try again from there.
    summary = re.search(r'<div class="error-summary" role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert summary and "Too many failed attempts. Please wait a minute and try again." in (
        summary.group(1)
    )
    assert 'id="password"' in page and "aria-invalid" not in page
    assert client.get("/my").status_code == 302  # not signed in


def test_failed_sign_ins_are_limited_per_email_across_addresses(client, make_user):
    make_user(email="ona@example.org")
    for n in range(5):
        env = {"REMOTE_ADDR": f"10.0.0.{n + 1}"}
        token = csrf_token(client)
        client.post(
            "/login",
            data={"email": "ona@example.org", "password": "x", "csrf_token": token},
            environ_base=env,
        )
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": "ona@example.org", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert response.status_code == 429


def test_successful_sign_ins_are_not_limited(client, make_user):
    make_user(email="ona@example.org")
    for _ in range(7):
        assert login(client, "ona@example.org").status_code == 302
        client.get("/my")


def test_form_without_csrf_token_says_it_expired(client, make_user):
    make_user(email="ona@example.org")
    response = client.post("/login", data={"email": "ona@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert client.get("/my").status_code == 302


def test_next_only_redirects_within_the_site(client, make_user):
    make_user(email="ona@example.org")
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "email": "ona@example.org",
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/my"


def test_session_cookie_flags(app, make_user):
    make_user(email="ona@example.org")
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    response = login(client, "ona@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_security_headers_forbid_inline_script(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)
