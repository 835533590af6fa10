"""The embedded scheduler: Celery beat's schedule, run on one thread of the web process.

Only used in embedded mode (no broker), where tasks run eagerly. In distributed mode
`celery beat` owns the schedule and this module is never started.
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

_thread: threading.Thread | None = None
_stop = threading.Event()


def _run() -> None:
    from config.celery import app

    # Celery imports the apps' tasks modules only when a worker starts (autodiscovery waits for
    # that signal); the web process has imported those its requests touched, if any, so without
    # this a task nobody imported (the report rollups) was never found and never ran.
    app.loader.import_default_modules()
    schedule = {
        name: entry["schedule"].total_seconds()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    next_run = dict.fromkeys(schedule, time.monotonic())
    while not _stop.is_set():
        now = time.monotonic()
        for name, every in schedule.items():
            if now < next_run[name]:
                continue
            next_run[name] = now + every
            task_name = settings.CELERY_BEAT_SCHEDULE[name]["task"]
            task = app.tasks.get(task_name)
            if task is None:
                logger.error("scheduled task %s: no task named %s", name, task_name)
                continue
            try:
                task.apply()
            except Exception:
                logger.exception("scheduled task %s failed", name)
            finally:
                from django.db import close_old_connections

                close_old_connections()
        _stop.wait(min(max(0.5, min(next_run.values()) - time.monotonic()), 5))


def start() -> bool:
    """Start the scheduler thread once per process; returns whether it is running."""
    global _thread
    if not settings.EMBEDDED_SCHEDULER:
        return False
    if _thread is None or not _thread.is_alive():
        _stop.clear()
        _thread = threading.Thread(target=_run, name="embedded-scheduler", daemon=True)
        _thread.start()
        logger.info("embedded scheduler started: %s", ", ".join(settings.CELERY_BEAT_SCHEDULE))
    return True


def stop() -> None:
    _stop.set()
