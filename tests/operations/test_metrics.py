"""/metrics: Prometheus figures for the allowed addresses only, gathered from
every worker of `vle serve`."""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.conftest import start_vle_serve
from vle import create_app, db
from vle.db import utcnow
from vle.mail.models import OutboxMail
from vle.mail.queue import huey
from vle.mail.tasks import send_mail


def _value(page: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 if none)."""
    total = 0.0
    for line in page.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(match.group(3))
    return total


def _scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_requests_are_counted_by_endpoint_and_status_class_and_timed(client):
    before = _scrape(client)
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = _scrape(client)

    counted = "vle_http_requests_total"
    login = {"method": "GET", "endpoint": "accounts.login", "status": "2xx"}
    assert _value(after, counted, **login) - _value(before, counted, **login) == 3
    missing = {"endpoint": "none", "status": "4xx"}
    assert _value(after, counted, **missing) - _value(before, counted, **missing) == 1
    timed = "vle_http_request_duration_seconds_count"
    assert (
        _value(after, timed, endpoint="accounts.login")
        - _value(before, timed, endpoint="accounts.login")
        == 3
    )


def test_an_address_not_allowed_gets_404(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 404
    assert b"vle_http_requests" not in response.data


def test_allowed_networks_and_the_proxy_s_address(_database):
    app = create_app(
        {**_database, "METRICS_ALLOW": "192.0.2.0/24, 2001:db8::1", "PROXY_COUNT": 1},
        env="test",
    )
    client = app.test_client()

    def status(address: str) -> int:
        headers = {"X-Forwarded-For": address}
        return client.get("/metrics", headers=headers).status_code

    assert status("192.0.2.44") == 200
    assert status("2001:db8::1") == 200
    assert status("127.0.0.1") == 404  # the default is replaced, not added to
    assert status("198.51.100.1") == 404
    assert status("not an address") == 404
    assert client.get("/metrics").status_code == 404  # the proxy itself (127.0.0.1)
    db.get_database(app).engine.dispose()


def test_a_setting_that_is_not_an_address_stops_the_app(_database):
    with pytest.raises(RuntimeError, match="VLE_METRICS_ALLOW: 'localhost'"):
        create_app({**_database, "METRICS_ALLOW": "127.0.0.1,localhost"}, env="test")


def test_queue_depth_is_the_tasks_waiting(client, monkeypatch):
    assert _value(_scrape(client), "vle_queue_depth") == 0
    monkeypatch.setattr(huey, "_immediate", False)  # queued, as for a worker, not run
    try:
        for mail_id in (1, 2, 3):
            send_mail(mail_id)
        assert _value(_scrape(client), "vle_queue_depth") == 3
    finally:
        huey.flush()
    assert _value(_scrape(client), "vle_queue_depth") == 0


def test_outbox_age_is_the_oldest_mail_still_waiting(client, session):
    age = "vle_outbox_oldest_unsent_age_seconds"
    assert _value(_scrape(client), age) == 0
    now = utcnow()

    def mail(key: str, minutes_old: int, **state) -> OutboxMail:
        return OutboxMail(
            key=key,
            to_address="ona@example.org",
            to_name="Ona",
            locale="en",
            kind="test",
            subject="Hello",
            text_body="Hello",
            html_body="<p>Hello</p>",
            created_at=now - timedelta(minutes=minutes_old),
            **state,
        )

    session.add_all(
        [
            mail("sent", 60, sent_at=now, next_attempt_at=None),
            mail("given-up", 50, next_attempt_at=None, attempts=30),
            mail("waiting", 10, next_attempt_at=now),
            mail("new", 1, next_attempt_at=now),
        ]
    )
    session.commit()
    assert 600 <= _value(_scrape(client), age) < 660


def test_vle_serve_sums_the_requests_of_every_worker(tmp_path, _database):
    process, port = start_vle_serve(
        tmp_path / "instance",
        _database["DATABASE_URL"],
        "--workers",
        "2",
        "--threads",
        "1",
        VLE_SECURE_COOKIES="0",
        TMPDIR=str(tmp_path),  # where `vle serve` makes the workers' metrics folder
    )

    def get(path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.read().decode()

    try:
        sent = 1  # start_vle_serve asked for /login once
        (folder,) = tmp_path.glob("vle-metrics-*")
        # Eight at a time to two single-threaded workers, until both have taken
        # some (one fast worker may drain a short burst alone).
        with ThreadPoolExecutor(8) as pool:
            while len(list(folder.glob("counter_*.db"))) < 2 and sent < 1000:
                list(pool.map(lambda _: get("/login"), range(40)))
                sent += 40
        assert len(list(folder.glob("counter_*.db"))) == 2  # each worker counted
        # Whichever worker answers the scrape, the sum is both workers'.
        for _ in range(4):
            counted = _value(get("/metrics"), "vle_http_requests_total", endpoint="accounts.login")
            assert counted == sent
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not list(tmp_path.glob("vle-metrics-*"))  # removed when the server stops
