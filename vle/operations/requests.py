"""Request ids and one log line per request.

Every response carries `X-Request-Id`: the one the proxy sent when it is
well-formed (REQUEST_ID), else a fresh random one. The error pages and the
API's JSON errors show it (`g.request_id`), and the request's line on the
`vle.request` logger holds it: one JSON object per request with its time, id,
method, path (without the query string, which may hold tokens), status,
duration, the signed-in user's id and the client's address (behind a proxy,
as ProxyFix gives it). `vle serve` writes those lines instead of gunicorn's
access log (vle.server)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request

HEADER = "X-Request-Id"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

logger = logging.getLogger("vle.request")


def init_app(app: Flask) -> None:
    """Call before any other extension adds its hooks: this one's
    before_request then runs first (an earlier one may refuse the request, and
    its error page shows the id) and its after_request last (the duration
    covers the others)."""
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get(HEADER, "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _finish(response: Any) -> Any:
    if "request_id" not in g:  # refused before any hook ran
        _start()
    response.headers[HEADER] = g.request_id
    if logger.isEnabledFor(logging.INFO):
        logger.info(json.dumps(_line(response.status_code)))
    return response


def _line(status: int) -> dict[str, Any]:
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": g.request_id,
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
        "user_id": _user_id(),
        "remote_addr": request.remote_addr,
    }


def _user_id() -> int | None:
    """The API token's owner, or the signed-in user when the request loaded
    them: never loaded just for the log (a query on every request)."""
    user = g.get("api_user") or g.get("_login_user")
    if user is None or not user.is_authenticated:
        return None
    return int(user.id)
