"""gunicorn, started from `vle serve` and `vle demo`."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS


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

        app = create_app()
        _settle_garbage_collector()
        return app


def log_requests() -> None:
    """The request log's lines (vle.operations.requests) on standard output,
    each as it is: a JSON object per line. Set before gunicorn forks: every
    worker keeps it."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    request_log = logging.getLogger("vle.request")
    request_log.handlers[:] = [handler]
    request_log.setLevel(logging.INFO)
    request_log.propagate = False


def _settle_garbage_collector() -> None:
    """Exempt what the worker holds for its whole life (modules, the app, the
    mappers: about 140,000 objects) from the garbage collector's full passes.
    Each such pass walked them all: 70-130 ms with the GIL held, every thread
    of the worker stalled, several times a minute under load: a large part of
    the PostgreSQL completion POST's 99th percentile (bench/README.md, sixth
    round). Garbage made before the freeze is collected first; an object of
    that set dropped later in a reference cycle is never freed, a cost
    bounded by the set and paid once."""
    gc.collect()
    gc.freeze()


def gunicorn_options(
    host: str, port: int, workers: int, threads: int, connections: int | None = None
) -> dict[str, Any]:
    """gunicorn's settings for `vle serve`. `connections`: the open connections
    a threaded worker holds at most (gunicorn's `worker_connections`, 1,000 by
    default). A worker accepts while below it and keeps kept-alive connections,
    so when many clients connect at once one worker can take them all while
    the others idle; a cap of a few per thread makes them spread, but clients
    beyond workers × cap then wait until an idle connection closes (gunicorn's
    keep-alive: 2 s). Behind a proxy that opens a connection per request
    neither happens, so the default is gunicorn's; see bench/README.md."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        # No access log: vle writes one JSON line per request itself, with its
        # request id and user (vle.operations.requests), on standard output.
        "accesslog": None,
        "timeout": 60,
        "child_exit": _child_exit,
    }
    if connections:
        options["worker_connections"] = connections
    if "control_socket_disable" in {setting.name for setting in KNOWN_SETTINGS}:
        # Newer gunicorn (27 here) opens a control socket at one path per account
        # (~/.gunicorn/gunicorn.ctl), shared by every server it runs there: two
        # `vle serve` on one machine would take each other's. vle does not use it.
        options["control_socket_disable"] = True
    return options


def _child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its counts stay in /metrics' sums, it no longer counts as live."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # set by run()
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def run(host: str, port: int, workers: int, threads: int, connections: int | None = None) -> None:
    # /metrics adds up every worker's counts (vle/operations/metrics.py): each
    # writes them to files in this fresh folder. prometheus_client picks its
    # way of counting when imported, and the CLI has made an app (imported it)
    # already: it is told to pick again, before the workers fork.
    from prometheus_client import values

    metrics_dir = tempfile.mkdtemp(prefix="vle-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    values.ValueClass = values.get_value_class()
    try:
        _run(host, port, workers, threads, connections)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run(host: str, port: int, workers: int, threads: int, connections: int | None) -> None:
    from vle.community.search import load_dictionaries

    # The search's dictionaries (about 500 MB for the four languages, 4 s to load)
    # are loaded once here, before gunicorn forks its workers: they share the pages
    # instead of each loading its own copy in the first request that searches.
    load_dictionaries()
    log_requests()
    _Server(gunicorn_options(host, port, workers, threads, connections)).run()
