from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> str:
    from integrations.delivery import deliver

    return deliver(delivery_id=delivery_id).status


@shared_task(acks_late=True)
def sweep_webhooks() -> int:
    """Periodic: send webhook deliveries whose retry time has come or whose worker died."""
    from integrations.delivery import requeue_due

    return requeue_due()
