"""Prometheus metrics observed in-process. The lower layers observe through these objects; the
/metrics view (config/metrics.py) exposes them together with the backlog gauges it reads from
the database at scrape time.

With PROMETHEUS_MULTIPROC_DIR set before the process starts, prometheus-client keeps these values
in files there, and the view adds up every process's files (docs/operations.md)."""

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_DELIVERIES_FAILED = Counter(
    "switchboard_webhook_deliveries_failed",
    "Outbound webhook deliveries that ended without success (failed or abandoned).",
)
SLA_SWEEP_SECONDS = Histogram(
    "switchboard_sla_sweep_seconds",
    "How long one SLA sweep took.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
WEBSOCKET_CONNECTIONS = Gauge(
    "switchboard_websocket_connections",
    "Open websocket connections, by consumer.",
    ["consumer"],
    multiprocess_mode="livesum",
)
HTTP_REQUESTS = Counter(
    "switchboard_http_requests",
    "HTTP requests answered by Django, by view, method and status code.",
    ["view", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "switchboard_http_request_seconds",
    "Time Django took to answer, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def websocket_opened(consumer: str) -> bool:
    WEBSOCKET_CONNECTIONS.labels(consumer).inc()
    return True


def websocket_closed(consumer: str, counted: bool) -> None:
    """For a socket that websocket_opened() counted (`counted`), once."""
    if counted:
        WEBSOCKET_CONNECTIONS.labels(consumer).dec()
