"""`vle serve` really serves (gunicorn), and sign-in limits hold across its workers."""

from __future__ import annotations

import subprocess
import urllib.request

from tests.conftest import free_port, start_vle_serve


def test_vle_serve_runs_gunicorn_with_workers_and_threads(tmp_path, _database):
    process, port = start_vle_serve(
        tmp_path,
        _database["DATABASE_URL"],
        "--workers",
        "2",
        "--threads",
        "2",
        stdout=subprocess.PIPE,
    )
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert response.status == 200
            assert b"Log in" in response.read()
            assert "HttpOnly" in response.headers["Set-Cookie"]
            assert "Secure" in response.headers["Set-Cookie"]  # production default
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output and "gthread" in output


def test_parallel_sign_in_tries_across_workers_get_five_checked(tmp_path, _database, make_user):
    # Two gunicorn workers, no Redis: 16 tries at once for one account, each from
    # its own browser. The count is shared and taken before the password is checked.
    import http.cookiejar
    import re
    import urllib.parse
    from concurrent.futures import ThreadPoolExecutor

    make_user(email="ona@example.org")
    process, port = start_vle_serve(
        tmp_path,
        _database["DATABASE_URL"],
        "--workers",
        "2",
        "--threads",
        "4",
        VLE_SECURE_COOKIES="0",
    )
    base = f"http://127.0.0.1:{port}"

    def browser() -> tuple[urllib.request.OpenerDirector, str]:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        page = opener.open(f"{base}/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        return opener, token.group(1)

    def attempt(pair: tuple[urllib.request.OpenerDirector, str]) -> int:
        opener, token = pair
        body = urllib.parse.urlencode(
            {"email": "ona@example.org", "password": "a guess", "csrf_token": token}
        ).encode()
        try:
            return opener.open(f"{base}/login", data=body, timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code

    try:
        browsers = [browser() for _ in range(16)]
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(attempt, browsers))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert sorted(statuses) == [200] * 5 + [429] * 11


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
        app = _Server(gunicorn_options("127.0.0.1", free_port(), 1, 2)).load()
        assert app.name == "vle"
        assert gc.is_tracked(app)
        # gc.get_objects() lists what the collector's passes walk.
        assert not any(obj is app for obj in gc.get_objects())
        assert not any(obj is app.url_map for obj in gc.get_objects())
    finally:
        gc.unfreeze()
