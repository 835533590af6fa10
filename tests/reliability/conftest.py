# The browser tests here drive the same Chromium and live server as tests/workspace/test_browser.py.
import json

import httpx
import pytest

from config.celery import app as celery_app
from inbox.intake.adapters.api import sign
from tests.inbox.factories import ChannelFactory

SECRET = "fault-api-secret"


@pytest.fixture
def stack(transactional_db, tmp_path):
    """The real web server and worker in subprocesses, behind cuttable proxies (see
    tests/support/faultstack.py). Started lazily by the test: `stack.start_web()` etc."""
    from tests.support.faultstack import FaultStack

    running = FaultStack(data_dir=tmp_path / "stack", worker_concurrency=2)
    yield running
    running.stop()


@pytest.fixture
def broker():
    """Send tasks from the test process to the real broker (the suite runs tasks eagerly)."""
    celery_app.conf.task_always_eager = False
    yield celery_app
    celery_app.conf.task_always_eager = True


@pytest.fixture
def api_channel(transactional_db):
    return ChannelFactory(slug="partner", kind="api", secret=SECRET)


def api_body(event_id: str, text: str = "Our order has not arrived", thread: str = "t-1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "sender": {"id": "cust-1", "name": "Ada Customer", "email": "ada@example.test"},
            "text": text,
            "thread": thread,
        }
    ).encode()


def post_api(base_url: str, body: bytes, *, slug: str = "partner", timeout: float = 10):
    """Deliver a signed generic-API webhook as a provider would."""
    return httpx.post(
        f"{base_url}/webhooks/api/{slug}/",
        content=body,
        headers={"Content-Type": "application/json", "X-Signature": sign(SECRET, body)},
        timeout=timeout,
    )


@pytest.fixture
def sent(monkeypatch):
    """The tasks the product enqueues, held back instead of sent: (name, args)."""
    held: list[tuple[str, tuple]] = []

    def hold(task, *args, countdown=None):
        held.append((task.name, args))
        return True

    monkeypatch.setattr("core.tasks.enqueue", hold)
    return held
