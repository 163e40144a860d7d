"""Two `vle serve` servers behind nginx, as README's "Running in production" runs
them: one database, one instance folder, one Redis, one `vle worker`, and nginx
with the very configuration the README shows (deploy/nginx/vle.conf).

A browser is sent now through nginx, now straight to one server or the other: what
it does on one is seen on the other.

nginx is Debian's (`apt-get install nginx-light`). Where it (or Redis on
127.0.0.1:6379) is missing the test skips, unless VLE_REQUIRE_BROWSER=1 (CI), which
turns the skip into a failure.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests
from PIL import Image

from tests.conftest import PASSWORD, free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "nginx" / "vle.conf"
REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of its own, emptied of its keys after
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)


def _require(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("VLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what}, and VLE_REQUIRE_BROWSER=1 requires it", pytrace=False)
    pytest.skip(what)


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def nginx_command(prefix: Path, upstream_a: str, upstream_b: str, listen: str) -> list[str]:
    """nginx in the foreground with deploy/nginx/vle.conf, its {{ placeholders }}
    filled in, inside a main configuration that keeps its files under `prefix`
    (as Debian's /etc/nginx/nginx.conf holds conf.d/). Also bench/two_servers.py's."""
    values = {
        "upstream_a": upstream_a, "upstream_b": upstream_b, "listen": listen,
        "server_name": "localhost", "pages": str(NGINX_CONF.parent),
    }  # fmt: skip
    prefix.mkdir()
    (prefix / "vle.conf").write_text(
        re.sub(r"\{\{ (\w+) \}\}", lambda m: values[m.group(1)], NGINX_CONF.read_text())
    )
    (prefix / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + "worker_processes 1;\n"
        + "events { worker_connections 1024; }\n"
        + "http {\n"
        + f"  access_log {prefix}/access.log;\n"
        + "".join(f"  {kind}_temp_path {prefix}/{kind};\n" for kind in _NGINX_TEMP)
        + f"  include {prefix}/vle.conf;\n"
        + "}\n"
    )
    return [NGINX or "nginx", "-p", f"{prefix}/", "-e", f"{prefix}/error.log",
            "-c", f"{prefix}/nginx.conf", "-g", f"daemon off; pid {prefix}/nginx.pid;"]  # fmt: skip


_NGINX_TEMP = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@contextmanager
def _processes(commands: list[tuple[list[str], Path]], env: dict[str, str]) -> Iterator[list]:
    """The commands started at once, each writing to its log; all stopped after."""
    processes: list[subprocess.Popen] = []
    try:
        for args, log in commands:
            with log.open("wb") as output:
                processes.append(
                    subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT)
                )
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(url: str, processes: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + 120  # a server loads the search dictionaries first
    while True:
        try:
            requests.get(url, timeout=5)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise AssertionError(
                    f"{url} never answered:\n" + "\n".join(log.read_text() for log in logs)
                ) from None
            time.sleep(0.2)


@contextmanager
def _site(
    tmp_path: Path, database_url: str
) -> Iterator[tuple[dict[str, str], list[subprocess.Popen]]]:
    """Two servers of one worker, a background worker and nginx; their addresses
    and their processes (in that order)."""
    instance = tmp_path / "instance"
    env = {
        **os.environ,
        "VLE_ENV": "production",
        "VLE_SECRET_KEY": "two-servers-test-secret",
        "VLE_SECURE_COOKIES": "0",  # plain http in the test
        "VLE_DATABASE_URL": database_url,
        "VLE_INSTANCE_PATH": str(instance),
        "VLE_RATELIMIT_STORAGE_URL": REDIS_URL,
        "VLE_QUEUE_URL": REDIS_URL,
        "VLE_PROXY_COUNT": "1",
        "VLE_MAIL_SERVER": "127.0.0.1",
        "VLE_MAIL_PORT": str(free_port()),  # nothing there: mail waits in the outbox
    }
    vle = str(Path(sys.executable).parent / "vle")
    ports = {"a": free_port(), "b": free_port(), "nginx": free_port()}
    logs = [tmp_path / f"{name}.log" for name in ("a", "b", "worker", "nginx")]
    serve = [vle, "serve", "--workers", "1", "--threads", "2", "--port"]
    prefix = tmp_path / "nginx"
    nginx = nginx_command(
        prefix, f"127.0.0.1:{ports['a']}", f"127.0.0.1:{ports['b']}", f"127.0.0.1:{ports['nginx']}"
    )
    commands = [
        ([*serve, str(ports["a"])], logs[0]),
        ([*serve, str(ports["b"])], logs[1]),
        ([vle, "worker", "--threads", "1"], logs[2]),
        (nginx, logs[3]),
    ]
    with _processes(commands, env) as processes:
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for url in urls.values():
            _wait_for(f"{url}/login", processes, [*logs, prefix / "error.log"])
        yield urls, processes
        assert processes[2].poll() is None, logs[2].read_text()  # the worker kept running


def _token(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=30)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def _sign_in(browser: requests.Session, base: str, email: str, password: str = PASSWORD):
    token = _token(browser, f"{base}/login")
    return browser.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def _post(browser: requests.Session, base: str, path: str, page: str, **kwargs):
    token = _token(browser, f"{base}{page}")
    data = {**kwargs.pop("data", {}), "csrf_token": token}
    return browser.post(f"{base}{path}", data=data, allow_redirects=False, timeout=30, **kwargs)


def _request_log(tmp_path: Path, request_id: str) -> dict:
    """The line of one request in the servers' request logs (vle.operations.requests)."""
    for name in ("a.log", "b.log"):
        for line in (tmp_path / name).read_text().splitlines():
            if line.startswith("{") and json.loads(line)["request_id"] == request_id:
                return json.loads(line)
    raise AssertionError(f"no request {request_id} in the servers' logs")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def test_two_servers_behind_nginx_are_one_site(
    tmp_path, _database, make_org, make_user, make_course
):
    _require("nginx is not installed (apt-get install nginx-light)", NGINX is not None)
    _require(f"Redis does not answer at {REDIS_URL}", _redis_answers())
    school = make_org("school", name="Vilnius School")
    make_user("admin", org=school, email="admin@example.org", name="Rasa Admin")
    make_user(org=school, email="ona@example.org", name="Ona Learner")
    make_user(org=school, email="jonas@example.org")
    course = make_course(slug="ethics", title="Ethics at work", lessons=2)
    first = course.modules[0].items[0].id

    store = redis.Redis.from_url(REDIS_URL)
    try:
        with _site(tmp_path, _database["DATABASE_URL"]) as (url, processes):
            a, b, proxy = url["a"], url["b"], url["nginx"]

            # nginx passes the client's request id on, or makes one.
            sent = requests.get(f"{proxy}/login", headers={"X-Request-Id": "ab-12"}, timeout=30)
            assert sent.status_code == 200 and sent.headers["X-Request-Id"] == "ab-12"
            made = requests.get(f"{proxy}/login", timeout=30).headers["X-Request-Id"]
            assert re.fullmatch(r"[0-9a-f]{32}", made)
            # The servers see the client's address as nginx gives it, not one the
            # client made up (their request log; the audit log and limits use it too).
            spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Request-Id": "spoof-check"}
            requests.get(f"{proxy}/login", headers=spoofed, timeout=30)
            logged = _request_log(tmp_path, "spoof-check")
            assert logged["remote_addr"] == "127.0.0.1" and logged["path"] == "/login"

            # A learner's journey, from server to server.
            ona = requests.Session()
            assert _sign_in(ona, a, "ona@example.org").status_code == 302
            assert ">Enrol<" in ona.get(f"{b}/courses/ethics", timeout=30).text
            enrolled = _post(ona, proxy, "/courses/ethics/enrol", "/courses/ethics")
            assert enrolled.status_code == 302
            done = _post(
                ona, a, f"/courses/ethics/items/{first}/complete", f"/courses/ethics/items/{first}"
            )
            assert done.status_code == 302
            page = ona.get(f"{b}/courses/ethics", timeout=30)
            assert page.status_code == 200 and "50%" in page.text
            assert "50%" in ona.get(f"{proxy}/my", timeout=30).text
            signed_in = dict(ona.cookies)
            assert _post(ona, a, "/logout", "/my").status_code == 302
            # The session ended for every server, even for a cookie kept from before.
            for base in (b, proxy):
                again = requests.get(
                    f"{base}/my", cookies=signed_in, allow_redirects=False, timeout=30
                )
                assert again.status_code == 302 and "/login" in again.headers["Location"]

            # Failed sign-ins count together on both servers: the sixth in a
            # minute is refused, whichever server it reaches.
            tries = [
                _sign_in(requests.Session(), base, "jonas@example.org", "a guess").status_code
                for base in (a, b, proxy, a, b, b, a, proxy)
            ]
            assert tries == [200] * 5 + [429] * 3

            # An administrator signs in on one server and downloads a report from the other.
            rasa = requests.Session()
            assert _sign_in(rasa, b, "admin@example.org").status_code == 302
            for base in (a, proxy):
                report = rasa.get(f"{base}/reports/completion.csv", timeout=30)
                assert report.status_code == 200
                assert report.headers["Content-Type"].startswith("text/csv")
                assert "attachment" in report.headers["Content-Disposition"]
                assert "Ona Learner" in report.text and "Ethics at work" in report.text

            # A logo uploaded through one server is served by the other and by nginx.
            logo = _png()
            fields = {
                "kind": "school", "country": "LT", "region": "", "contact_email": "",
                "contact_phone": "", "website": "", "description_en": "",
                "description_lt": "", "description_pl": "", "description_nb": "",
            }  # fmt: skip
            edit = "/network/organisations/school/edit"
            saved = _post(rasa, a, edit, edit, data=fields, files={"logo": ("logo.png", logo)})
            assert saved.status_code == 302
            # nginx lets a body as large as vle accepts through: vle itself says no.
            too_large = _post(
                rasa, proxy, edit, edit, data=fields,
                files={"logo": ("logo.png", logo + bytes(3 * 1024 * 1024))},
            )  # fmt: skip
            assert too_large.status_code == 422 and "too large" in too_large.text
            for base in (b, proxy):
                served = rasa.get(f"{base}/network/organisations/school/logo", timeout=30)
                assert served.status_code == 200
                assert served.headers["Content-Type"] == "image/png" and served.content == logo

            # Both servers down (restarting): nginx answers 503 and when to try again,
            # the API's JSON error for the API and a page for people.
            for server in processes[:2]:
                server.terminate()
                server.wait(timeout=30)
            api = requests.get(
                f"{proxy}/api/v1/courses", headers={"X-Request-Id": "down-1"}, timeout=30
            )
            assert api.status_code == 503 and api.headers["Retry-After"] == "5"
            assert api.headers["Content-Type"] == "application/json"
            assert api.json()["error"]["code"] == "unavailable"
            assert api.json()["request_id"] == "down-1" == api.headers["X-Request-Id"]
            page = rasa.get(f"{proxy}/courses/ethics", timeout=30)
            assert page.status_code == 503 and page.headers["Content-Type"] == "text/html"
            assert "Please try again in a moment." in page.text
            assert '<section lang="lt">' in page.text
    finally:
        for key in store.scan_iter(count=1000):
            store.delete(key)
