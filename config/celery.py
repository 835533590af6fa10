import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _yield_cpu_to_web(**_) -> None:
    """Lower the worker's priority (settings.WORKER_NICE) before it forks its pool: on a shared
    box the web processes' acknowledgements come first, and the stored backlog waits."""
    from django.conf import settings

    nice = max(0, min(19, settings.WORKER_NICE))
    if nice and hasattr(os, "nice"):
        os.nice(nice - os.nice(0))


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
