"""Delivering outbox events to webhook endpoints.

The schedule lives in the database (WebhookDelivery.next_attempt_at), so a retry survives a broker
outage or a killed worker: the sweep (`requeue_due`) sends what is due. A worker claims a
delivery with a conditional update before sending, so two workers never send it at once; a claim
older than WEBHOOK_CLAIM_TIMEOUT belongs to a worker that died and the sweep sends it again.
No HTTP is ever sent inside a database transaction.
"""

import json
import logging
import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import languages, metrics, refcache
from core.sendlock import WEBHOOK_DELIVERY, sending
from inbox.models import Event
from integrations import schemas, signing, transport
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# About three days of retries after the first attempt.
BACKOFF = [5, 300, 1800, 7200, 18000, 36000, 36000]
MAX_RETRY_AFTER = 24 * 3600
KEEP_BODY = 2048


def enqueue(delivery_id: int, *, countdown: float | None = None) -> None:
    from core.tasks import enqueue as send_task
    from integrations.tasks import deliver_webhook

    send_task(deliver_webhook, delivery_id, countdown=countdown)


def enabled_endpoints() -> list[WebhookEndpoint]:
    """Every enabled endpoint, from this process's copy (refreshed on any endpoint change)."""
    return refcache.get(
        "webhook-endpoints", lambda: list(WebhookEndpoint.objects.filter(enabled=True))
    )


def subscribers(event_type: str) -> list[WebhookEndpoint]:
    return [e for e in enabled_endpoints() if event_type in e.events]


def create_deliveries(*, event: Event, endpoints=None) -> list[WebhookDelivery]:
    """One delivery per subscribed, enabled endpoint for a committed outbox event. Idempotent:
    the re-queue sweep may dispatch an event twice, and (event, endpoint) is unique. Returns the
    deliveries created now; each is enqueued after commit."""
    event_type = schemas.webhook_type(event)
    if event_type is None:
        return []
    targets = subscribers(event_type) if endpoints is None else endpoints
    if not targets:
        return []
    body = schemas.body_for(event)
    created = []
    with transaction.atomic():
        for endpoint in targets:
            delivery, is_new = WebhookDelivery.objects.get_or_create(
                event=event,
                endpoint=endpoint,
                defaults={
                    "event_type": event_type,
                    "payload": body,
                    "next_attempt_at": timezone.now(),
                },
            )
            if is_new:
                created.append(delivery)
        for delivery in created:
            transaction.on_commit(lambda pk=delivery.pk: enqueue(pk))
    return created


def on_event_dispatched(*, event: Event) -> None:
    """One outbox event's deliveries (see on_events_dispatched)."""
    create_deliveries(event=event)


def on_events_dispatched(*, events) -> None:
    """inbox.hooks "events_dispatched": runs after commit for every fanned-out batch; the enabled
    endpoints are read once for the batch, not once per event."""
    endpoints = list(WebhookEndpoint.objects.filter(enabled=True))
    if not endpoints:
        return
    for event in events:
        event_type = schemas.webhook_type(event)
        targets = [e for e in endpoints if event_type in e.events] if event_type else []
        if targets:
            create_deliveries(event=event, endpoints=targets)


def _claim(delivery_id: int, now, *, take_over: bool = False) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q() if take_over else unclaimed(now))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def unclaimed(now) -> Q:
    stale = now - timedelta(seconds=settings.WEBHOOK_CLAIM_TIMEOUT)
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)


def deliver(*, delivery_id: int) -> WebhookDelivery:
    """Make one attempt at a due delivery, record it, and decide what comes next: success,
    a retry at a jittered backoff (or the receiver's Retry-After), or a final failure. A claim
    left by a worker killed mid-send is taken over at once (core.sendlock)."""
    with sending(WEBHOOK_DELIVERY, delivery_id) as held:
        if held is False:  # a live worker is sending it right now
            return WebhookDelivery.objects.get(pk=delivery_id)
        return _deliver(delivery_id, take_over=bool(held))


def _deliver(delivery_id: int, *, take_over: bool) -> WebhookDelivery:
    now = timezone.now()
    if not _claim(delivery_id, now, take_over=take_over):
        return WebhookDelivery.objects.get(pk=delivery_id)
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        with transaction.atomic():
            _close(delivery, WebhookDelivery.Status.ABANDONED, error="The endpoint is disabled.")
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = signing.headers(
        endpoint.secret, msg_id=delivery.webhook_id, timestamp=int(now.timestamp()), body=body
    )
    result = transport.post(endpoint.url, body=body, headers=headers)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_body=result.body[:KEEP_BODY].decode("utf-8", "replace"),
            error=result.error[:1000],
        )
        _decide(delivery, endpoint, result)
    return delivery


def _decide(delivery: WebhookDelivery, endpoint: WebhookEndpoint, result: transport.Result):
    code = result.status_code
    if code is not None and 200 <= code < 300:
        _close(delivery, WebhookDelivery.Status.SUCCEEDED, code=code)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return
    error = result.error or f"HTTP {code}"
    if code == 410:
        _close(delivery, WebhookDelivery.Status.FAILED, code=code, error=error)
        disable_endpoint(endpoint_id=endpoint.pk, reason="The receiver answered 410 Gone.")
        return
    refused = result.error.startswith("Refused:")
    retryable = not refused and (code is None or code in (408, 429) or code >= 500)
    if not retryable:
        _close(delivery, WebhookDelivery.Status.FAILED, code=code, error=error)
        _count_failure(endpoint)
        return
    attempt = delivery.attempts
    if attempt > len(BACKOFF):
        _close(
            delivery,
            WebhookDelivery.Status.ABANDONED,
            code=code,
            error=f"Gave up after {attempt} attempts: {error}",
        )
        _count_failure(endpoint)
        return
    delay = BACKOFF[attempt - 1] * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not a secret)
    if code in (429, 503) and result.retry_after is not None:
        delay = max(delay, min(result.retry_after, MAX_RETRY_AFTER))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_status_code=code,
        last_error=error[:1000],
    )
    delivery.refresh_from_db()
    transaction.on_commit(lambda: enqueue(delivery.pk, countdown=delay))


def _close(delivery: WebhookDelivery, status: str, *, code=None, error: str = "") -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        claimed_at=None,
        next_attempt_at=None,
        last_status_code=code,
        last_error=error[:1000],
        finished_at=timezone.now(),
    )
    delivery.refresh_from_db()
    if status != WebhookDelivery.Status.SUCCEEDED:
        transaction.on_commit(metrics.WEBHOOK_DELIVERIES_FAILED.inc)


def _count_failure(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures"])
    limit = settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES
    if endpoint.consecutive_failures >= limit:
        disable_endpoint(
            endpoint_id=endpoint.pk,
            reason=f"{endpoint.consecutive_failures} deliveries failed in a row.",
        )


def disable_endpoint(*, endpoint_id: int, reason: str) -> bool:
    """Turn an endpoint off and tell the admins by email (after commit). Returns whether it was
    on. Call inside a transaction."""
    changed = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False, disabled_reason=reason[:255]
    )
    if changed:
        refcache.changed()  # the per-process list of subscribers drops it
        transaction.on_commit(lambda: _email_admins(endpoint_id, reason))
    return bool(changed)


def _email_admins(endpoint_id: int, reason: str) -> None:
    """Tell the admins, one mail per language, each in the admins' own (core.languages). The
    reason is the system's own sentence, sent as written."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    User = get_user_model()
    admins = User.objects.filter(is_active=True).filter(Q(role="admin") | Q(is_superuser=True))
    by_language: dict[str, set[str]] = {}
    for admin in admins:
        if admin.email:
            by_language.setdefault(languages.of_person(admin), set()).add(admin.email)
    for language, recipients in sorted(by_language.items()):
        with languages.speaking(language):
            subject = _("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
            body = _(
                "Switchboard stopped sending webhooks to %(url)s.\n\nWhy: %(reason)s\n\n"
                "Fix the receiver, then enable the endpoint again and replay what it missed."
            ) % {"url": endpoint.url, "reason": reason}
        try:
            send_mail(subject, body + "\n", None, sorted(recipients))
        except Exception:
            logger.exception("could not email admins about webhook endpoint %s", endpoint_id)


def requeue_due(*, limit: int = 500) -> int:
    """Pending deliveries whose time has come, or whose worker died holding the claim."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(unclaimed(now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        enqueue(delivery_id)
    return len(due)
