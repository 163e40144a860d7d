"""Fixtures of the operations tests: apps with settings of their own, and a
server that takes connections and never answers (a stalled Redis or SMTP)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from vle import create_app, db


@pytest.fixture
def make_app(_database: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Apps of the test database with settings of their own; their
    connections are closed when the test ends."""
    apps: list[Flask] = []

    def make(**settings: Any) -> Flask:
        apps.append(create_app({**_database, **settings}, env="test"))
        return apps[-1]

    yield make
    for app in apps:
        db.get_database(app).engine.dispose()


class StalledServer:
    """Listens on a free port of 127.0.0.1, accepts every connection and
    holds it without a word until `stop()`."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.2)
        self.port: int = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                self._held.append(self._server.accept()[0])
            except OSError:
                continue

    def stop(self) -> None:
        """Close the connections held (whoever waits on them is told at once)."""
        if self._done.is_set():
            return
        self._done.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self._server.close()


@pytest.fixture
def stalled_server() -> Iterator[StalledServer]:
    server = StalledServer()
    yield server
    server.stop()
