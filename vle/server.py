"""gunicorn, started from `vle serve` and `vle demo`."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app (and database engine) after the fork.
        from vle import create_app

        return create_app()


def gunicorn_options(
    host: str, port: int, workers: int, threads: int, connections: int | None = None
) -> dict[str, Any]:
    """gunicorn's settings for `vle serve`. A threaded worker accepts new
    connections while it holds fewer than `worker_connections` and keeps the
    kept-alive ones: with gunicorn's default (1,000) one worker can take every
    client's connection while the others idle. A few per thread (4 by default)
    makes them spread across the workers; more clients than workers × that
    wait until an idle connection closes (gunicorn's keep-alive: 2 s)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "worker_connections": connections or threads * 4,
        "accesslog": "-",
        "timeout": 60,
    }


def run(host: str, port: int, workers: int, threads: int, connections: int | None = None) -> None:
    _Server(gunicorn_options(host, port, workers, threads, connections)).run()
