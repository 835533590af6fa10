"""Sending Celery tasks from services: work is stored first, so a send never fails its caller."""

import logging

logger = logging.getLogger(__name__)


def enqueue(task, *args, countdown: float | None = None) -> bool:
    """Send a task without ever failing the caller: the work it names is already stored, and the
    periodic sweeps send it again when the broker was down. In eager mode (embedded) a countdown
    cannot be honoured, so a delayed send is left to the sweep. Returns whether it was sent."""
    if countdown and task.app.conf.task_always_eager:
        return False
    try:
        if countdown:
            task.apply_async(args, countdown=countdown)
        else:
            task.delay(*args)
    except Exception:
        logger.warning("could not enqueue %s%r; a sweep will retry", task.name, args)
        return False
    return True


def eager() -> bool:
    """Whether tasks run in the calling process (embedded mode: no broker)."""
    from celery import current_app

    return bool(current_app.conf.task_always_eager)
