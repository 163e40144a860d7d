from __future__ import annotations

from tests.conftest import csrf_token, login


def test_language_from_browser_before_sign_in(client):
    page = client.get("/login", headers={"Accept-Language": "lt-LT,lt;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert '<html lang="lt">' in html
    assert "Prisijungti" in html  # "Log in"


def test_english_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Log in" in html


def test_switcher_sets_the_language_and_the_users_setting(client, make_user, session):
    user = make_user(email="ingrid@example.org")
    login(client, "ingrid@example.org")
    token = csrf_token(client, "/my")
    response = client.post("/language", data={"locale": "lt", "next": "/my", "csrf_token": token})
    assert response.headers["Location"] == "/my"
    assert "Mano mokymasis" in client.get("/my").get_data(as_text=True)
    session.refresh(user)
    assert user.locale == "lt"
    # The setting follows the user to a new browser.
    other = client.application.test_client()
    login(other, "ingrid@example.org")
    assert '<html lang="lt">' in other.get("/my").get_data(as_text=True)


def test_unknown_language_changes_nothing(client):
    token = csrf_token(client)
    client.post("/language", data={"locale": "xx", "next": "/login", "csrf_token": token})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_language_chosen_before_sign_in_is_kept(client, make_user, session):
    user = make_user(email="ona@example.org")
    token = csrf_token(client)
    client.post("/language", data={"locale": "lt", "next": "/login", "csrf_token": token})
    login(client, "ona@example.org")
    assert '<html lang="lt">' in client.get("/my").get_data(as_text=True)
    session.refresh(user)
    assert user.locale == "lt"


def test_form_errors_in_lithuanian(client):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": "", "password": "", "csrf_token": token},
        headers={"Accept-Language": "lt"},
    )
    html = response.get_data(as_text=True)
    assert "This field is required." not in html
    assert "Šį lauką būtina užpildyti." in html
