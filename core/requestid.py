"""The request id: one token per HTTP request, on every log line written while serving it and on
every Celery task it starts (carried in the task's headers, config/celery.py).

Kept in a context variable, so threads started by asgiref and eager tasks see it too."""

import contextvars
import re
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

HEADER = "X-Request-ID"
# The Celery message header that carries it from the request to the worker.
TASK_HEADER = "switchboard_request_id"
# What we accept from a client or proxy: a short token of URL-safe characters. Anything else (a
# log-injection attempt, a 4 kB header) is replaced by an id of our own.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")

current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def sane(value: object) -> str | None:
    """The value when it is an acceptable request id, else None."""
    if isinstance(value, str) and _SANE.fullmatch(value):
        return value
    return None


def get() -> str | None:
    return current.get()


def bind(value: str | None) -> contextvars.Token:
    return current.set(value)


def reset(token: contextvars.Token) -> None:
    current.reset(token)


class LogFilter:
    """Logging filter: puts the current request id on every record as `request_id`."""

    def filter(self, record) -> bool:
        record.request_id = current.get()
        return True


class RequestIdMiddleware:
    """Takes the request id from X-Request-ID when it is sane, else makes one; binds it for the
    request and answers it in the same header. First in MIDDLEWARE."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        request_id = sane(request.headers.get(HEADER)) or new()
        token = bind(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset(token)
        response[HEADER] = request_id
        return response

    async def __acall__(self, request):
        request_id = sane(request.headers.get(HEADER)) or new()
        token = bind(request_id)
        try:
            response = await self.get_response(request)
        finally:
            reset(token)
        response[HEADER] = request_id
        return response
