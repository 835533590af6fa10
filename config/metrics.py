"""GET /metrics (Prometheus text format) and the middleware that counts and times requests per
view. The backlog gauges are read from the database at scrape time (one indexed query each);
everything else is observed in-process through core.metrics."""

import hmac
import ipaddress
import logging
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core import metrics

logger = logging.getLogger("switchboard.request")


class BacklogCollector:
    """Stored work not yet done, counted when Prometheus scrapes."""

    def collect(self):
        from inbox.models import InboundEvent, Message
        from integrations.models import WebhookDelivery

        try:
            # Both read the partial index inbound_unprocessed (received_at WHERE status=received).
            inbound = InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).aggregate(
                n=Count("*"), oldest=Min("received_at")
            )
            # msg_delivery_due and webhook_delivery_due are partial indexes on exactly these conditions.
            messages = Message.objects.filter(delivery_status=Message.DeliveryStatus.QUEUED)
            webhooks = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
            outbound = {"messages": messages.count(), "webhooks": webhooks.count()}
        except DatabaseError as exc:
            logger.warning("metrics: backlog not read, the database did not answer: %s", exc)
            return
        yield GaugeMetricFamily(
            "switchboard_inbound_backlog",
            "Inbound events stored and not yet processed.",
            value=inbound["n"],
        )
        oldest = inbound["oldest"]
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "switchboard_inbound_oldest_seconds",
            "Age of the oldest inbound event not yet processed (0 when none waits).",
            value=max(age, 0.0),
        )
        family = GaugeMetricFamily(
            "switchboard_outbound_backlog",
            "Outbound work waiting: replies queued for sending, webhook deliveries pending.",
            labels=["kind"],
        )
        for kind, n in outbound.items():
            family.add_metric([kind], n)
        yield family


def _process_registry():
    """The in-process metrics: this process's, or with PROMETHEUS_MULTIPROC_DIR every process's."""
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    return registry


def _allowed_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_ADDRESSES:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def _refusal(request) -> JsonResponse | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if token and scheme.lower() == "bearer" and settings.METRICS_TOKEN:
        if hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
            return None
        return JsonResponse({"detail": "Invalid metrics token."}, status=403)
    if _allowed_address(request.META.get("REMOTE_ADDR", "")):
        return None
    response = JsonResponse({"detail": "Metrics need a bearer token."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@require_GET
def metrics_view(request):
    """Prometheus text format; only for METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES."""
    refused = _refusal(request)
    if refused is not None:
        return refused
    backlog = CollectorRegistry(auto_describe=False)
    backlog.register(BacklogCollector())
    body = generate_latest(_process_registry()) + generate_latest(backlog)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    """Counts and times each request by its resolved view name (never the raw path, which would
    make a series per conversation id), and logs one line per request with the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "<unresolved>"
        metrics.HTTP_REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        metrics.HTTP_REQUEST_SECONDS.labels(view).observe(elapsed)
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            view,
            response.status_code,
            elapsed * 1000,
            extra={"view": view, "status": response.status_code, "duration_ms": elapsed * 1000},
        )
        return response
