"""What every response says about itself: pages, downloads and API answers are
never kept by a browser or proxy (Cache-Control: no-store), static files may be,
and a 405 says which methods the address takes (Allow)."""

from __future__ import annotations

from tests.conftest import login


def test_pages_downloads_and_api_answers_are_not_stored(client, make_user, token_for):
    admin = make_user("admin", network=True, email="net@example.org")
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    login(client, "net@example.org")
    for url in ("/my", "/admin/users", "/admin/users/export.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        response.get_data()  # read to the end (the export streams)
    api = client.get("/api/v1/me", headers=token_for(admin))
    assert api.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/nothing-here").headers["Cache-Control"] == "no-store"
    static = client.get("/static/vle.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_a_405_names_the_methods_allowed(client, make_user, token_for):
    page = client.post("/courses")
    assert page.status_code == 405
    assert {"GET", "HEAD"} <= set(page.headers["Allow"].replace(" ", "").split(","))
    assert "POST" not in page.headers["Allow"]
    api = client.delete("/api/v1/me", headers=token_for(make_user()))
    assert api.status_code == 405 and api.get_json()["error"]["code"] == "method_not_allowed"
    assert {"GET", "HEAD"} <= set(api.headers["Allow"].replace(" ", "").split(","))
    assert api.content_type == "application/json"
