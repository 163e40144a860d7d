"""API v1, first part: tokens, me, enrolments, courses, completion, errors, OpenAPI."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import login
from vle.accounts import services as accounts
from vle.learning.models import Enrolment


def assert_error(response, status, code=None):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "request_id"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code


def test_no_token_or_a_bad_token_is_401_json(client):
    assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer vle_nope"}), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401)


def test_token_is_stored_hashed(session, make_user):
    user = make_user()
    token = accounts.create_token(session, user)
    session.commit()
    from vle.accounts.models import ApiToken

    stored = session.scalar(select(ApiToken))
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_deactivated_users_token_stops_working(client, session, make_user, token_for):
    user = make_user()
    headers = token_for(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    user.active = False
    session.commit()
    assert_error(client.get("/api/v1/me", headers=headers), 401)


def test_me(client, make_user, token_for):
    user = make_user(email="ona@example.org", name="Ona")
    body = client.get("/api/v1/me", headers=token_for(user)).get_json()
    assert body["email"] == "ona@example.org" and body["role"] == "learner"
    assert body["url"].endswith("/my")


def test_enrol_then_again_then_complete(client, make_course, make_user, token_for, session):
    course = make_course(slug="ethics", lessons=2)
    headers = token_for(make_user())
    response = client.post("/api/v1/courses/ethics/enrolments", headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body == {
        "course": "ethics",
        "url": "http://localhost/courses/ethics",
        "status": "not_started",
        "progress": 0,
        "enrolled_at": body["enrolled_at"],
        "completed_at": None,
        "due": None,
        "overdue": False,
        "expires_at": None,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["enrolled_at"])
    again = client.post("/api/v1/courses/ethics/enrolments", headers=headers)
    assert again.status_code == 200 and again.get_json() == body
    assert session.scalar(select(func.count()).select_from(Enrolment)) == 1
    first, second = course.items
    done = client.post(f"/api/v1/items/{first.id}/completion", headers=headers).get_json()
    assert done["status"] == "in_progress" and done["progress"] == 50
    done = client.post(f"/api/v1/items/{second.id}/completion", headers=headers).get_json()
    assert done["status"] == "completed" and done["progress"] == 100 and done["completed_at"]
    mine = client.get("/api/v1/me/enrolments", headers=headers).get_json()
    assert [e["course"] for e in mine["enrolments"]] == ["ethics"]
    assert mine["enrolments"][0]["status"] == "completed"


def test_enrolment_key(client, make_course, make_user, token_for):
    make_course(slug="keyed", key="sesame")
    headers = token_for(make_user())
    assert_error(
        client.post("/api/v1/courses/keyed/enrolments", headers=headers, json={"key": "x"}), 422
    )
    assert_error(client.post("/api/v1/courses/keyed/enrolments", headers=headers), 422)
    ok = client.post("/api/v1/courses/keyed/enrolments", headers=headers, json={"key": "sesame"})
    assert ok.status_code == 201


def test_malformed_json_is_400(client, make_course, make_user, token_for):
    make_course(slug="c")
    headers = {**token_for(make_user()), "Content-Type": "application/json"}
    assert_error(client.post("/api/v1/courses/c/enrolments", headers=headers, data="{nope"), 400)
    assert_error(client.post("/api/v1/courses/c/enrolments", headers=headers, data="[1]"), 400)


def test_completion_without_enrolment_is_403(client, make_course, make_user, token_for):
    course = make_course(slug="c")
    headers = token_for(make_user())
    assert_error(
        client.post(f"/api/v1/items/{course.items[0].id}/completion", headers=headers), 403
    )
    assert_error(client.post("/api/v1/items/999999/completion", headers=headers), 404)


def test_drafts_are_404_except_for_their_trainers_and_network_admins(
    client, make_course, make_user, token_for, make_org
):
    org = make_org()
    trainer = make_user("trainer", org=org)
    course = make_course(slug="draft", status="draft", trainers=[trainer])
    learner_headers = token_for(make_user(org=org))
    assert_error(client.get("/api/v1/courses/draft", headers=learner_headers), 404)
    assert_error(client.post("/api/v1/courses/draft/enrolments", headers=learner_headers), 404)
    assert_error(
        client.post(f"/api/v1/items/{course.items[0].id}/completion", headers=learner_headers), 404
    )
    assert "draft" not in [
        c["slug"]
        for c in client.get("/api/v1/courses", headers=learner_headers).get_json()["courses"]
    ]
    assert client.get("/api/v1/courses/draft", headers=token_for(trainer)).status_code == 200
    admin = make_user("admin", org=org, network=True)
    assert client.get("/api/v1/courses/draft", headers=token_for(admin)).status_code == 200
    other_trainer = make_user("trainer", org=org)
    assert_error(client.get("/api/v1/courses/draft", headers=token_for(other_trainer)), 404)


def test_course_detail_lists_modules_and_items_with_urls(client, make_course, make_user, token_for):
    course = make_course(slug="c", modules=2, lessons=2)
    body = client.get("/api/v1/courses/c", headers=token_for(make_user())).get_json()
    assert [m["slug"] for m in body["modules"]] == ["module-1", "module-2"]
    item = body["modules"][0]["items"][0]
    assert item["id"] == course.items[0].id and item["kind"] == "lesson"
    assert item["url"] == f"http://localhost/courses/c/items/{course.items[0].id}"


def test_admin_enrols_a_user_in_scope_only(
    client, make_course, make_org, make_user, token_for, session
):
    make_course(slug="c")
    city = make_org("CITY")
    school = make_org("SCHOOL", parent=city)
    other = make_org("OTHER")
    admin = make_user("admin", org=city)
    inside = make_user(org=school, email="in@example.org")
    make_user(org=other, email="out@example.org")
    headers = token_for(admin)
    ok = client.post(
        "/api/v1/courses/c/enrolments", headers=headers, json={"user": "in@example.org"}
    )
    assert ok.status_code == 201
    assert_error(
        client.post(
            "/api/v1/courses/c/enrolments", headers=headers, json={"user": "out@example.org"}
        ),
        404,
    )
    learner_headers = token_for(inside)
    assert_error(
        client.post(
            "/api/v1/courses/c/enrolments", headers=learner_headers, json={"user": admin.id}
        ),
        403,
    )


def test_unknown_api_route_is_json_404(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_every_api_route_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    # Parameter names may differ ({id} in the document, <item_id> in the code).
    documented = {
        (re.sub(r"\{[a-z_]+\}", "{}", path), method)
        for path, operations in document["paths"].items()
        for method in operations
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "{}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in openapi.json"


def test_the_api_speaks_the_token_owners_language_then_the_browsers(
    client, session, make_course, make_user, token_for
):
    make_course(slug="keyed", key="sesame")
    lithuanian = make_user(email="ona@example.org")
    lithuanian.locale = "lt"
    session.commit()
    unset = make_user(email="jonas@example.org")  # no language of their own
    wrong_key = {"json": {"key": "x"}}

    def message(headers, **kwargs):
        response = client.post("/api/v1/courses/keyed/enrolments", headers=headers, **kwargs)
        assert_error(response, 422 if "json" in kwargs else 400)
        return response.get_json()["error"]["message"]

    ona = token_for(lithuanian)
    assert message(ona, **wrong_key) == "Neteisingas registracijos raktas."
    assert message(ona, data="[1]", content_type="application/json") == (
        "Užklausos turinys turi būti JSON objektas."
    )
    # Her own setting goes before what the client asks for.
    assert (
        message({**ona, "Accept-Language": "pl"}, **wrong_key)
        == "Neteisingas registracijos raktas."
    )
    # Without a setting of their own: the client's Accept-Language, else English.
    jonas = token_for(unset)
    assert message({**jonas, "Accept-Language": "nb"}, **wrong_key) == "Påmeldingsnøkkelen er feil."
    assert message(jonas, **wrong_key) == "The enrolment key is not correct."
    # A signed-in browser session of someone else does not speak for the token's owner.
    login(client, "jonas@example.org")
    assert message(ona, **wrong_key) == "Neteisingas registracijos raktas."


def test_the_token_owners_language_holds_even_if_something_asked_for_one_before(
    app, client, session, make_course, make_user, token_for
):
    """A hook that looks at the language before the token is read (a rate limit's
    message, a logger) must not leave the request speaking the browser's."""
    from flask_babel import get_locale

    @app.before_request
    def look_at_the_language() -> None:
        get_locale()

    make_course(slug="keyed", key="sesame")
    user = make_user()
    user.locale = "pl"
    session.commit()
    response = client.post(
        "/api/v1/courses/keyed/enrolments",
        headers={**token_for(user), "Accept-Language": "nb"},
        json={"key": "x"},
    )
    assert_error(response, 422)
    assert response.get_json()["error"]["message"] == "Nieprawidłowy klucz zapisu."
