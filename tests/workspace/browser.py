"""What the browser tests share: Debian's Chromium driven by Playwright (/usr/bin/chromium), the
real ASGI app (HTTP and websockets) served by uvicorn on 127.0.0.1 in a thread, a page per test,
the `support` team, and helpers to make users, log in, take screenshots (tests/artifacts/) and
post a signed event to the `partner` API channel. tests/conftest.py offers the fixtures to every
test by name."""

import json
import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from inbox.intake.adapters.api import sign
from tagging.models import Tag
from tests.accounts.factories import TeamFactory

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "browser-pass-1"
SECRET = "browser-secret"


@pytest.fixture(scope="module")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the Debian chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps a loop running; allowed for these tests only.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def server(django_db_setup):
    """The ASGI application (HTTP and websockets) on a free local port."""
    import uvicorn
    from django.db import connections

    from config.asgi import application

    # The server's worker threads hold their own connections: close each after its request, so
    # the test database can be dropped at the end of the run.
    db_settings = connections.settings["default"]
    kept_for = db_settings["CONN_MAX_AGE"]
    db_settings["CONN_MAX_AGE"] = 0

    config = uvicorn.Config(
        application, host="127.0.0.1", port=0, lifespan="off", log_level="warning", ws="auto"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = instance.servers[0].sockets[0].getsockname()[1]
    RUNNING.append(instance)
    yield f"http://127.0.0.1:{port}"
    RUNNING.remove(instance)
    instance.should_exit = True
    thread.join(timeout=5)
    db_settings["CONN_MAX_AGE"] = kept_for


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    page.set_default_timeout(5000)
    page.problems = []
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on(
        "console",
        lambda m: page.problems.append(f"console: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    yield page
    context.close()
    wait_until_idle()


# The servers the `server` fixture runs: a page closed at the end of a test may leave a request
# of its own (a draft saved as it closed, a read marker) still writing, and the test database's
# flush (TRUNCATE) then deadlocks with it. The page's teardown waits for those to finish.
RUNNING: list = []


def wait_until_idle(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    for instance in RUNNING:
        while instance.server_state.tasks and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture
def support():
    team = TeamFactory(slug="support", name="Support")
    for slug, name in [("incident", "Incident"), ("feature-request", "Feature request")]:
        Tag.objects.get_or_create(slug=slug, defaults={"name": name, "is_default": True})
    return team


def user(factory, username, **kw):
    person = factory(username=username, **kw)
    person.set_password(PASSWORD)
    person.save()
    return person


def login(page, server, username, next_path="/inbox/"):
    page.goto(f"{server}/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}{next_path}")


def shot(page, name):
    # caret="initial": Playwright hides the caret with an inline style otherwise, which the
    # page's CSP refuses (and reports as a console error) whenever a text field has focus.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


def wait_for(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return check()


def post_to_partner(server, event: dict) -> httpx.Response:
    """An integration's signed event to the `partner` API channel, from outside the browser."""
    body = json.dumps(event).encode()
    return httpx.post(
        f"{server}/webhooks/api/partner/",
        content=body,
        headers={"Content-Type": "application/json", "X-Signature": sign(SECRET, body)},
    )
