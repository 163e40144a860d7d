"""/healthz and /readyz: what a load balancer asks (vle.operations)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import free_port, login
from vle.operations import health


def test_healthz_answers_without_the_database_a_session_or_a_sign_in(make_app, tmp_path):
    # A database that is not there: /healthz does not ask it.
    app = make_app(**_unreachable_database(tmp_path))
    client = app.test_client()
    client.set_cookie("session", "not-a-session-of-ours")
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in answer.headers
    assert client.head("/healthz").status_code == 200


def test_healthz_asks_nothing_of_the_database_for_a_signed_in_person(
    client, session, make_user, count_queries
):
    """Even one who must change their password (every page leads there)."""
    user = make_user()
    login(client, user.email)
    user.must_change_password = True
    session.commit()
    with count_queries() as counter:
        answer = client.get("/healthz")
    assert answer.status_code == 200 and counter.count == 0
    assert "Set-Cookie" not in answer.headers


def test_healthz_is_never_rate_limited(client):
    assert {client.get("/healthz").status_code for _ in range(50)} == {200}


def test_readyz_answers_200_when_every_part_answers(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


def test_readyz_names_the_database_when_nothing_listens_there(make_app, tmp_path):
    app = make_app(**_unreachable_database(tmp_path))
    started = time.monotonic()
    answer = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert answer.status_code == 503
    assert answer.get_json() == {
        "status": "unavailable",
        "checks": {"database": "failed", "queue": "ok"},
    }


def test_readyz_names_redis_when_nothing_listens_there(make_app):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(QUEUE_URL=closed, RATELIMIT_STORAGE_URL=closed)
    started = time.monotonic()
    answer = app.test_client().get("/readyz")
    assert time.monotonic() - started < 5
    assert answer.status_code == 503
    assert answer.get_json()["checks"] == {"database": "ok", "redis": "failed", "queue": "ok"}


def test_readyz_names_a_stalled_redis_and_the_queue_on_it_within_seconds(make_app, stalled):
    """A Redis that takes the connection and then says nothing: the probe
    does not hang with it (nor does a second probe while the first is stuck)."""
    app = make_app(QUEUE_URL=stalled, QUEUE_IMMEDIATE=False)
    client = app.test_client()
    for _ in range(2):
        started = time.monotonic()
        answer = client.get("/readyz")
        assert time.monotonic() - started < 5
        assert answer.status_code == 503
        checks = answer.get_json()["checks"]
        assert checks["database"] == "ok"
        assert checks["redis"] != "ok" and checks["queue"] != "ok"


@pytest.fixture
def stalled(stalled_server) -> Iterator[str]:
    """redis://… of a server that accepts connections and never answers."""
    yield f"redis://127.0.0.1:{stalled_server.port}/0"
    stalled_server.stop()
    # The checks stuck on it end now, before the next test asks again.
    deadline = time.monotonic() + 5
    while health._running and time.monotonic() < deadline:
        time.sleep(0.05)


def _unreachable_database(tmp_path: Any) -> dict[str, Any]:
    url = f"postgresql+psycopg://vle@127.0.0.1:{free_port()}/vle"
    return {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url}
