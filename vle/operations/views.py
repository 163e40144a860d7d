"""/healthz and /readyz: what a load balancer or an orchestrator asks.

Neither needs a session, a sign-in or a CSRF token, and neither is rate
limited. /healthz touches nothing but the process; /readyz asks the parts
(vle.operations.health)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from vle.extensions import limiter
from vle.operations.health import OK, readiness

bp = Blueprint("operations", __name__)
limiter.exempt(bp)


@bp.get("/healthz")
def healthz() -> Any:
    """200 while the process lives and answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    """200 when every part answers, else 503 saying which did not."""
    checks = readiness(current_app._get_current_object())  # type: ignore[attr-defined]
    ready = all(answer == OK for answer in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return jsonify(body), 200 if ready else 503
