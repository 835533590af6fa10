"""config/handler.py: under ASGI the middleware chain and the view run together in one thread
(one hop off the event loop), the request signals are sent, and what Django's own handler
answers (errors, streaming, async views) is answered the same."""

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import got_request_exception, request_finished, request_started
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from config.handler import OneHopASGIHandler

seen: dict[str, int] = {}


class RecordingMiddleware:
    """Sync and async capable, as core.requestid's: Django's own handler runs it on the loop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seen["middleware"] = threading.get_ident()
        return self.get_response(request)


def plain(request):
    seen["view"] = threading.get_ident()
    return HttpResponse("plain")


def broken(request):
    raise RuntimeError("the view broke")


def streamed(request):
    async def parts():
        yield b"one,"
        yield b"two"

    return StreamingHttpResponse(parts())


async def asynchronous(request):
    await asyncio.sleep(0)
    return HttpResponse("async")


urlpatterns = [
    path("plain/", plain),
    path("broken/", broken),
    path("streamed/", streamed),
    path("async/", asynchronous),
]

MIDDLEWARE = [__name__ + ".RecordingMiddleware", "django.middleware.common.CommonMiddleware"]


def get(handler, url):
    async def run():
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": url,
            "raw_path": url.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
        }
        app = ApplicationCommunicator(handler, scope)
        await app.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await app.receive_output(5)
        body = b""
        while True:
            message = await app.receive_output(5)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await app.wait(5)
        return start["status"], body

    return asyncio.run(run())


@pytest.fixture
def handler():
    with override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=MIDDLEWARE):
        yield OneHopASGIHandler()


def test_the_middleware_and_the_view_run_in_one_thread_with_the_request_signals(handler):
    threads = {}

    def started(**kwargs):
        threads["started"] = threading.get_ident()

    def finished(**kwargs):
        threads["finished"] = threading.get_ident()

    request_started.connect(started)
    request_finished.connect(finished)
    seen.clear()
    try:
        assert get(handler, "/plain/") == (200, b"plain")
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    loop_thread = threading.get_ident()
    assert seen["middleware"] == seen["view"] != loop_thread
    # close_old_connections, connected to both signals, closes the connection the view used.
    assert threads["started"] == threads["finished"] == seen["view"]


def test_a_view_that_raises_is_a_500_and_is_reported(handler):
    reported = []

    def report(**kwargs):
        reported.append(kwargs["request"].path)

    got_request_exception.connect(report)
    try:
        status, _ = get(handler, "/broken/")
    finally:
        got_request_exception.disconnect(report)
    assert status == 500 and reported == ["/broken/"]


def test_a_streamed_answer_and_an_async_view_are_served(handler):
    assert get(handler, "/streamed/") == (200, b"one,two")
    assert get(handler, "/async/") == (200, b"async")
    assert get(handler, "/missing/")[0] == 404


def test_the_application_serves_http_with_the_one_hop_handler():
    from config import asgi

    assert isinstance(asgi.django_asgi_app, OneHopASGIHandler)
    assert not asyncio.iscoroutinefunction(asgi.django_asgi_app._middleware_chain)


def test_what_the_web_process_loads_at_start_is_out_of_the_collectors_way():
    """config.asgi loads the URL conf with every view, then freezes the heap: a full garbage
    collection no longer walks Django's and DRF's objects (a 100 ms pause every few hundred
    requests before)."""
    import gc
    import sys

    import config.asgi  # noqa: F401

    assert "workspace.views.inbox" in sys.modules  # the views came in with the URL conf
    assert gc.get_freeze_count() > 50_000
