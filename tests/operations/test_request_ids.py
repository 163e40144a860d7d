"""X-Request-Id on every response, the request's log line, and the id on the
error pages and the API's JSON errors (vle.operations.requests)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import abort

from tests.conftest import login
from vle import create_app, db

FRESH = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "path, status",
    [
        ("/", 200),  # a page
        ("/no-such-page", 404),
        ("/api/v1/me", 401),  # a JSON error
        ("/static/favicon.svg", 200),
        ("/healthz", 200),
    ],
)
def test_every_response_carries_a_fresh_request_id(client, path, status):
    first, second = client.get(path), client.get(path)
    first.close()  # a static file is sent from an open file
    second.close()
    assert first.status_code == status
    assert FRESH.fullmatch(first.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_the_proxys_well_formed_id_is_kept(client):
    for given in ("a", "req-42.b_C", "x" * 64):
        answer = client.get("/", headers={"X-Request-Id": given})
        assert answer.headers["X-Request-Id"] == given


@pytest.mark.parametrize(
    "given", ["", "x" * 65, "two words", "semi;colon", "<script>", "ünïcode", "a/b", "a\tb"]
)
def test_a_malformed_id_is_replaced(client, given):
    answer = client.get("/", headers={"X-Request-Id": given})
    assert FRESH.fullmatch(answer.headers["X-Request-Id"])


def test_each_request_logs_one_json_line_with_its_id(client, make_user, caplog):
    user = make_user()
    login(client, user.email)
    with caplog.at_level(logging.INFO, logger="vle.request"):
        answer = client.get("/my?page=2&token=secret", headers={"X-Request-Id": "trace-1"})
        assert client.get("/no-such-page").status_code == 404
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vle.request"]
    assert len(lines) == 2
    line = lines[0]
    assert answer.status_code == 200
    assert line["request_id"] == "trace-1"
    assert line["method"] == "GET"
    assert line["path"] == "/my"  # never the query string
    assert line["status"] == 200
    assert 0 <= line["duration_ms"] < 60_000
    assert line["user_id"] == user.id
    assert line["remote_addr"] == "127.0.0.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert lines[1]["status"] == 404 and lines[1]["path"] == "/no-such-page"


def test_the_log_line_has_the_clients_address_behind_the_proxy(_database, caplog):
    app = create_app({**_database, "PROXY_COUNT": 1}, env="test")
    with caplog.at_level(logging.INFO, logger="vle.request"):
        app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    db.get_database(app).engine.dispose()
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vle.request"]
    assert line["remote_addr"] == "203.0.113.7"
    assert line["user_id"] is None


def test_an_api_request_logs_its_tokens_owner(client, make_user, token_for, caplog):
    user = make_user()
    with caplog.at_level(logging.INFO, logger="vle.request"):
        assert client.get("/api/v1/me", headers=token_for(user)).status_code == 200
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vle.request"]
    assert line["user_id"] == user.id


def test_the_api_json_error_gives_the_request_id(client):
    answer = client.get("/api/v1/me", headers={"X-Request-Id": "api-7"})
    assert answer.status_code == 401
    assert answer.get_json()["request_id"] == "api-7"
    assert answer.get_json()["error"]["code"] == "unauthorized"


def test_the_not_found_page_shows_the_reference_to_quote(client):
    answer = client.get("/no-such-page", headers={"X-Request-Id": "ref-404"})
    assert answer.status_code == 404
    page = answer.get_data(as_text=True)
    assert "Quote this reference when you report it: ref-404" in page


def test_the_access_denied_page_shows_the_reference(client, make_user):
    login(client, make_user().email)
    answer = client.get("/admin/users")
    assert answer.status_code == 403
    reference = answer.headers["X-Request-Id"]
    assert f"Quote this reference when you report it: {reference}" in answer.get_data(as_text=True)


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_page_shows_the_reference_and_logs_the_status(app, caplog, status):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-fails")
    def fails() -> str:
        if status == 503:
            abort(503)
        raise RuntimeError("a bug")

    with caplog.at_level(logging.INFO, logger="vle.request"):
        answer = app.test_client().get("/test-fails", headers={"X-Request-Id": "ref-5xx"})
    assert answer.status_code == status
    assert answer.headers["X-Request-Id"] == "ref-5xx"
    assert "Quote this reference when you report it: ref-5xx" in answer.get_data(as_text=True)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "vle.request"]
    assert [(line["request_id"], line["status"]) for line in lines] == [("ref-5xx", status)]
