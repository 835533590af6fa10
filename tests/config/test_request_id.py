"""JSON logs with a request id that the Celery tasks a request starts carry too."""

import contextvars
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from config.celery import app as celery_app
from core import requestid
from inbox.intake.adapters.api import sign
from inbox.intake.tasks import drain_inbound_events
from inbox.models import Message
from tests.inbox.factories import ChannelFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log():
    """The root logger's output, formatted as settings.LOGGING's "json" formatter does."""
    conf = settings.LOGGING["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(conf["format"], rename_fields=conf["rename_fields"]))
    handler.addFilter(requestid.LogFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def post_message(client, **headers):
    channel = ChannelFactory(slug="partner", kind="api", secret="s3cret")
    body = json.dumps({"id": "evt-1", "sender": {"id": "u-1", "name": "Ann"}, "text": "hi"})
    response = client.post(
        "/webhooks/api/partner/",
        data=body.encode(),
        content_type="application/json",
        HTTP_X_SIGNATURE=sign("s3cret", body.encode()),
        **headers,
    )
    return channel, response


@pytest.mark.django_db(transaction=True)
def test_a_request_and_the_task_it_starts_log_the_same_request_id(client, json_log):
    # transaction=True: the view's commit runs on_commit, which runs the drain task eagerly.
    channel, response = post_message(client, HTTP_X_REQUEST_ID="trace-4f2a9c01")
    assert response.status_code == 202
    assert response["X-Request-ID"] == "trace-4f2a9c01"
    assert Message.objects.filter(channel=channel).exists()  # the task did run
    lines = json_log()
    tasks = [line for line in lines if line["logger"] == "celery.app.trace"]
    requests = [line for line in lines if line["logger"] == "switchboard.request"]
    assert any("inbox.tasks.process_inbound_event" in line["message"] for line in tasks)
    assert len(requests) == 1 and requests[0]["status"] == 202
    assert requests[0]["view"] == "webhooks:api"
    assert {line["request_id"] for line in tasks + requests} == {"trace-4f2a9c01"}
    assert {"time", "level", "message"} <= set(requests[0])


@pytest.mark.django_db
@pytest.mark.parametrize("given", [None, "", "short", "a b c d e f g h", "x" * 500, "id\nforged"])
def test_an_insane_or_missing_request_id_is_replaced_by_our_own(client, json_log, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    response = client.get("/healthz", **headers)
    ours = response["X-Request-ID"]
    assert ours != given and requestid.sane(ours) == ours
    assert [line["request_id"] for line in json_log() if line["logger"].startswith("switch")] == [
        ours
    ]


@pytest.mark.django_db
def test_a_task_sent_to_a_broker_carries_the_request_id_in_its_headers(json_log):
    """Non-eager: the id travels in the message and is bound again where the task runs."""
    celery_app.conf.task_always_eager = False
    try:
        with celery_app.connection_for_write("memory://") as connection:
            token = requestid.bind("req-7e1d0b55")
            try:
                drain_inbound_events.apply_async((0,), connection=connection)
            finally:
                requestid.reset(token)
            message = connection.SimpleQueue("celery", no_ack=True).get(timeout=2)
    finally:
        celery_app.conf.task_always_eager = True
    assert message.headers[requestid.TASK_HEADER] == "req-7e1d0b55"
    # Run it as a worker would: in a context of its own, with only the message to go on.
    contextvars.Context().run(
        drain_inbound_events.apply, message.payload[0], headers=message.headers
    )
    tasks = [line for line in json_log() if line["logger"] == "celery.app.trace"]
    assert tasks and {line["request_id"] for line in tasks} == {"req-7e1d0b55"}


def test_log_format_json_makes_one_json_object_per_line(tmp_path):
    env = {**os.environ, "LOG_FORMAT": "json", "SWITCHBOARD_DATA_DIR": str(tmp_path)}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.pop("SENTRY_DSN", None)
    script = (
        "import django, logging; django.setup(); from core import requestid;"
        "requestid.bind('abc12345'); logging.getLogger('switchboard.x').warning('hello %s', 1)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello 1" and line["request_id"] == "abc12345"
    assert line["level"] == "WARNING" and line["logger"] == "switchboard.x"
