"""Writes to webhook endpoints: create, change, delete, replay, send a test."""

import json
import time
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inbox import events
from inbox.models import Event
from integrations import schemas, signing, transport
from integrations.delivery import create_deliveries, enqueue
from integrations.models import WebhookDelivery, WebhookEndpoint, new_secret

REPLAY_LIMIT = 10_000


def _vet(*, url: str | None = None, event_types: list[str] | None = None) -> None:
    if url is not None:
        try:
            transport.check(url)
        except transport.UnsafeURL as exc:
            raise ValidationError({"url": [str(exc)]}) from exc
    if event_types is not None:
        unknown = sorted(set(event_types) - set(schemas.EVENT_TYPES))
        if unknown:
            raise ValidationError({"events": [f"Unknown event types: {', '.join(unknown)}."]})
        if not event_types:
            raise ValidationError({"events": ["Subscribe to at least one event type."]})


def endpoint_create(
    *,
    actor,
    url: str,
    event_types: list[str],
    secret: str | None = None,
    description: str = "",
    enabled: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint after vetting its URL (public addresses only, unless allowed). Returns
    the endpoint and its secret: the only time the secret leaves the server."""
    _vet(url=url, event_types=event_types)
    secret = secret or new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            secret=secret,
            events=list(dict.fromkeys(event_types)),
            description=description,
            enabled=enabled,
            created_by=actor,
        )
        events.publish(
            "webhook_endpoint.created", actor=actor, data={"endpoint": endpoint.pk, "url": url}
        )
    return endpoint, secret


def endpoint_update(*, endpoint_id: int, actor, **changes) -> WebhookEndpoint:
    """Change url, events (`event_types`), secret, description or enabled. Enabling an endpoint
    clears its failure count and disabled reason."""
    _vet(url=changes.get("url"), event_types=changes.get("event_types"))
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        fields = ["updated_at"]
        for name in ("url", "secret", "description", "enabled"):
            if name in changes and changes[name] is not None:
                setattr(endpoint, name, changes[name])
                fields.append(name)
        if changes.get("event_types") is not None:
            endpoint.events = list(dict.fromkeys(changes["event_types"]))
            fields.append("events")
        if changes.get("enabled"):
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason = ""
            fields += ["consecutive_failures", "disabled_reason"]
        endpoint.save(update_fields=fields)
        events.publish(
            "webhook_endpoint.updated",
            actor=actor,
            data={
                "endpoint": endpoint.pk,
                "changed": sorted(set(fields) - {"updated_at", "secret"}),
            },
        )
    return endpoint


def endpoint_delete(*, endpoint_id: int, actor) -> None:
    """Delete an endpoint with its delivery log."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint_id).delete()
        events.publish("webhook_endpoint.deleted", actor=actor, data={"endpoint": endpoint_id})


def _reopen(delivery_ids: list[int]) -> None:
    WebhookDelivery.objects.filter(pk__in=delivery_ids).update(
        status=WebhookDelivery.Status.PENDING,
        attempts=0,
        claimed_at=None,
        next_attempt_at=timezone.now(),
        finished_at=None,
    )
    for pk in delivery_ids:
        transaction.on_commit(lambda pk=pk: enqueue(pk))


def replay_delivery(*, delivery_id: int, actor) -> WebhookDelivery:
    """Send a delivery again from scratch (same webhook-id and body, a fresh retry schedule).
    A delivery still pending is left to its schedule."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != WebhookDelivery.Status.PENDING:
            _reopen([delivery.pk])
        events.publish("webhook_delivery.replayed", actor=actor, data={"deliveries": [delivery.pk]})
    delivery.refresh_from_db()
    return delivery


def replay_range(*, endpoint_id: int, actor, since: datetime, until: datetime) -> int:
    """Send again every event of the endpoint's types committed in [since, until): deliveries
    that finished are reopened, events it never got (disabled, subscribed later) are added.
    Returns how many deliveries were queued."""
    if until <= since:
        raise ValidationError({"until": ["until must be after since."]})
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    outbox = list(
        Event.objects.filter(
            created_at__gte=since, created_at__lt=until, type__in=endpoint.events
        ).order_by("id")[:REPLAY_LIMIT]
    )
    with transaction.atomic():
        for event in outbox:
            create_deliveries(event=event, endpoints=[endpoint])
        finished = list(
            WebhookDelivery.objects.filter(endpoint=endpoint, event__in=outbox)
            .exclude(status=WebhookDelivery.Status.PENDING)
            .values_list("pk", flat=True)
        )
        _reopen(finished)
        queued = WebhookDelivery.objects.filter(
            endpoint=endpoint, event__in=outbox, status=WebhookDelivery.Status.PENDING
        ).count()
        events.publish(
            "webhook_delivery.replayed",
            actor=actor,
            data={"endpoint": endpoint.pk, "since": since.isoformat(), "until": until.isoformat()},
        )
    return queued


def send_test(*, endpoint_id: int) -> int | None:
    """POST a signed `webhook.test` body to the endpoint now. Returns only the status code (None
    when nothing answered): the response body never comes back, so this is no way to read
    internal services. Writes nothing."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    now = int(time.time())
    body = json.dumps(
        schemas.envelope(
            type="webhook.test",
            id=f"test_{now}",
            created_at=timezone.now().isoformat(),
            data={"endpoint": endpoint.pk},
        ),
        separators=(",", ":"),
    ).encode()
    msg_id = f"msg_test_{endpoint.pk}_{now}"
    headers = signing.headers(endpoint.secret, msg_id=msg_id, timestamp=now, body=body)
    return transport.post(endpoint.url, body=body, headers=headers).status_code
