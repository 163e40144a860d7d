"""The bench routes (ceiling and empty page) exist only when VLE_BENCH_CEILING asks."""

from __future__ import annotations

from typing import Any

from flask import Flask

from vle import create_app, db


def test_no_bench_routes_by_default(client: Any) -> None:
    assert client.get("/bench/ceiling").status_code == 404
    assert client.get("/bench/page").status_code == 404


def test_ceiling_route_when_asked(app: Flask, monkeypatch: Any) -> None:
    monkeypatch.setenv("VLE_BENCH_CEILING", "1")
    settings = {key: app.config[key] for key in ("INSTANCE_PATH", "DATABASE_URL")}
    bench_app = create_app(settings, env="test")
    try:
        response = bench_app.test_client().get("/bench/ceiling")
        assert response.status_code == 200
        assert response.get_data(as_text=True) == "ok\n"
        assert response.headers["Content-Security-Policy"]  # the same middleware as pages
        page = bench_app.test_client().get("/bench/page")
        assert page.status_code == 200
        assert "<h1>Bench</h1>" in page.get_data(as_text=True)
        assert "Log in" in page.get_data(as_text=True)  # the site's frame around it
    finally:
        db.get_database(bench_app).engine.dispose()
