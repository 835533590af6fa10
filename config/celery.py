import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue(task, *args, countdown: float | None = None) -> bool:
    """Send a task without ever failing the caller: the work it names is already stored, and the
    periodic sweeps send it again when the broker was down. In eager mode (embedded) a countdown
    cannot be honoured, so a delayed send is left to the sweep. Returns whether it was sent."""
    import logging

    if countdown and task.app.conf.task_always_eager:
        return False
    try:
        if countdown:
            task.apply_async(args, countdown=countdown)
        else:
            task.delay(*args)
    except Exception:
        logging.getLogger(__name__).warning(
            "could not enqueue %s%r; a sweep will retry", task.name, args
        )
        return False
    return True
