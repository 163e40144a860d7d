"""`vle serve` really serves (gunicorn), and sign-in limits are shared through Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import csrf_token
from vle import create_app, db

REDIS_URL = "redis://127.0.0.1:6379/15"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_vle_serve_runs_gunicorn_with_workers_and_threads(tmp_path, _database):
    port = _free_port()
    env = {
        **os.environ,
        "VLE_ENV": "production",
        "VLE_SECRET_KEY": "serve-test-secret",
        "VLE_INSTANCE_PATH": str(tmp_path),
        "VLE_DATABASE_URL": _database["DATABASE_URL"],
    }
    vle = os.path.join(os.path.dirname(sys.executable), "vle")
    process = subprocess.Popen(
        [vle, "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/login", timeout=5
                ) as response:
                    assert response.status == 200
                    assert b"Log in" in response.read()
                    assert "HttpOnly" in response.headers["Set-Cookie"]
                    assert "Secure" in response.headers["Set-Cookie"]  # production default
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output and "gthread" in output


def _redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_failed_sign_ins_are_counted_across_processes_with_redis(_database, make_user):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # db 15 is the tests' own
    # Two apps stand for two gunicorn workers sharing one Redis.
    settings = {**_database, "RATELIMIT_STORAGE_URL": REDIS_URL}
    apps = [create_app(settings, env="test") for _ in range(2)]
    worker_a, worker_b = (app.test_client() for app in apps)
    email = "someone@example.org"
    for _ in range(3):
        worker_a.post(
            "/login", data={"email": email, "password": "x", "csrf_token": csrf_token(worker_a)}
        )
    for _ in range(2):
        worker_b.post(
            "/login", data={"email": email, "password": "x", "csrf_token": csrf_token(worker_b)}
        )
    response = worker_a.post(
        "/login",
        data={"email": email, "password": "x", "csrf_token": csrf_token(worker_a)},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert response.status_code == 429
    for app in apps:
        db.get_database(app).engine.dispose()


def test_the_connections_a_worker_keeps_can_be_capped():
    from vle.server import gunicorn_options

    # gunicorn's default lets one threaded worker keep 1,000 connections; a
    # deployment whose proxy keeps a pool of connections caps it so that they
    # spread over the workers.
    assert "worker_connections" not in gunicorn_options("127.0.0.1", 8000, workers=2, threads=4)
    assert gunicorn_options("127.0.0.1", 8000, 2, 4, connections=16)["worker_connections"] == 16


def test_a_worker_keeps_its_app_out_of_the_garbage_collectors_passes(
    monkeypatch, tmp_path, _database
):
    # A full pass walked every object the worker holds for life, stalling
    # all its threads for 70-130 ms under load (bench/README.md, sixth round).
    import gc

    from vle.server import _Server, gunicorn_options

    for name, value in {
        "VLE_ENV": "production",
        "VLE_SECRET_KEY": "serve-test-secret",
        "VLE_INSTANCE_PATH": str(tmp_path),
        "VLE_DATABASE_URL": _database["DATABASE_URL"],
    }.items():
        monkeypatch.setenv(name, value)
    gc.unfreeze()
    try:
        app = _Server(gunicorn_options("127.0.0.1", _free_port(), 1, 2)).load()
        assert app.name == "vle"
        assert gc.is_tracked(app)
        # gc.get_objects() lists what the collector's passes walk.
        assert not any(obj is app for obj in gc.get_objects())
        assert not any(obj is app.url_map for obj in gc.get_objects())
    finally:
        gc.unfreeze()
