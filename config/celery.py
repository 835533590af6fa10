import contextlib
import contextvars
import os

from celery import Celery, signals

from core import requestid

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


# --- The request id travels with the tasks a request starts (core.requestid) -------------------
# Celery's own lines ("Task ... succeeded in ...", a failure's traceback) are logged between these
# two signals, so they carry it.
_bound: dict[str, contextvars.Token] = {}


@signals.before_task_publish.connect
def _send_request_id(headers=None, **_) -> None:
    request_id = requestid.get()
    if request_id and headers is not None:
        headers[requestid.TASK_HEADER] = request_id


@signals.task_prerun.connect
def _bind_request_id(task_id=None, task=None, **_) -> None:
    request = task.request
    carried = getattr(request, requestid.TASK_HEADER, None) or (request.headers or {}).get(
        requestid.TASK_HEADER
    )
    # An eager task runs inside its caller and keeps its id; a periodic one gets its own.
    inherited = requestid.get() if request.is_eager else None
    _bound[task_id] = requestid.bind(requestid.sane(carried) or inherited or requestid.new())


@signals.task_postrun.connect
def _unbind_request_id(task_id=None, **_) -> None:
    token = _bound.pop(task_id, None)
    if token is not None:
        # Bound in another context (a pool thread): nothing to restore there.
        with contextlib.suppress(ValueError):
            requestid.reset(token)


@signals.worker_process_shutdown.connect
def _forget_process_metrics(pid=None, **_) -> None:
    """Multiprocess metrics: a pool process that exits stops counting in live gauges."""
    from django.conf import settings

    directory = settings.PROMETHEUS_MULTIPROC_DIR
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid(), directory)
