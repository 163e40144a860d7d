"""Prometheus metrics at /metrics, for the addresses in `METRICS_ALLOW` only
(everyone else gets 404, as if there were no such page).

Requests are counted by method, endpoint and status class, and timed by
endpoint, as each response leaves. The queue's depth and the age of the
oldest mail waiting in the outbox are read when the page is scraped.

Under `vle serve` each gunicorn worker counts its own requests: prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, which vle/server.py sets to a fresh
folder before the workers fork) keeps each worker's figures in a file there, and
a scrape, whichever worker answers it, adds up every worker's. In one process
(the tests, `flask run`) the figures are kept in memory.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from vle import db
from vle.db import utcnow
from vle.mail.models import OutboxMail
from vle.mail.queue import huey

logger = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Registered in no registry of their own: /metrics gathers them (see _registry).
REQUESTS = Counter(
    "vle_http_requests",
    "HTTP requests answered, by method, endpoint and status class.",
    ["method", "endpoint", "status"],
    registry=None,
)
LATENCY = Histogram(
    "vle_http_request_duration_seconds",
    "Time from the request's start to its response, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)

bp = Blueprint("metrics", __name__)


def allowed_networks(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """`VLE_METRICS_ALLOW`: addresses or networks (CIDR), comma-separated."""
    networks = []
    for part in setting.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise RuntimeError(
                    f"VLE_METRICS_ALLOW: {part.strip()!r} is not an address or a network"
                ) from None
    return networks


def init_app(app: Flask) -> None:
    app.extensions["vle.metrics_allow"] = allowed_networks(app.config["METRICS_ALLOW"])
    app.after_request(_count)
    app.register_blueprint(bp)


def _count(response: Response) -> Response:
    endpoint = request.endpoint or "none"  # no route matched
    REQUESTS.labels(request.method, endpoint, f"{response.status_code // 100}xx").inc()
    # When the request began: its log line's start (vle.operations.requests), taken
    # by the app's first before_request hook.
    started = g.get("request_started")
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def _allowed(address: str | None) -> bool:
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(client in network for network in current_app.extensions["vle.metrics_allow"])


@bp.get("/metrics")
def metrics() -> Response:
    # The address ProxyFix has taken from X-Forwarded-For when VLE_PROXY_COUNT says so.
    if not _allowed(request.remote_addr):
        abort(404)
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        MultiProcessCollector(registry)  # every worker's files, this one's included
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_ScrapeTime())
    return registry


class _ScrapeTime(Collector):
    """What is read when the page is scraped: one figure for the whole site."""

    def collect(self) -> Iterator[Metric]:
        try:
            depth = huey.pending_count()
        except Exception:
            logger.exception("metrics: the queue's depth could not be read")
        else:
            yield GaugeMetricFamily(
                "vle_queue_depth", "Tasks waiting in the background queue.", value=depth
            )
        try:
            age = _oldest_unsent_age()
        except SQLAlchemyError:
            logger.exception("metrics: the outbox could not be read")
        else:
            yield GaugeMetricFamily(
                "vle_outbox_oldest_unsent_age_seconds",
                "Age of the oldest mail waiting to be sent in the outbox (0 when none waits).",
                value=age,
            )


def _oldest_unsent_age() -> float:
    """A mail waits while it has a next attempt: sent and given-up mails have none."""
    oldest = db.session().scalar(
        select(func.min(OutboxMail.created_at)).where(
            OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at.is_not(None)
        )
    )
    if oldest is None:
        return 0.0
    return max(0.0, (utcnow() - oldest).total_seconds())
