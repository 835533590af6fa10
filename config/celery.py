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
