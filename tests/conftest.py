import os
import shutil
import sys
import threading
import time

import pytest
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.accounts.factories import (
    AdminFactory,
    AgentFactory,
    LeadFactory,
    TeamFactory,
    ViewerFactory,
)

# The browser tests' fixtures (Chromium, the live server, a page, the support team), by name.
from tests.workspace.browser import chromium, page, server, support  # noqa: F401


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need PostgreSQL; `redis` tests need REDIS_URL. Skipped, loudly, elsewhere."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
            )
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL=redis://...)"))
        if "browser" in item.keywords and not shutil.which("chromium"):
            item.add_marker(pytest.mark.skip(reason="needs Chromium (.ci/run installs it)"))


@pytest.fixture(autouse=True, scope="session")
def _eager_tasks():
    # The suite runs tasks in-process; tests of real worker processes start their own.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """At the end of the run pytest-django drops the PostgreSQL test database, which PostgreSQL
    refuses while any other session is connected to it. Server threads of the browser and
    websocket tests (executor threads, consumers) can leave their connections open after the
    server stops; end those sessions first, so the database is dropped and not left behind.
    pytest-django's own fixture, extended: a run of tests that need no database makes none."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def cache_unreachable():
    """The cache (Redis) refusing connections: nothing listens on port 1 (limits fail open)."""
    from core.cache import shared

    down = {"BACKEND": "core.cache.SharedPoolRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    with override_settings(CACHES={"default": down}):
        shared.cache_clear()
        yield
    shared.cache_clear()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Real hashing costs ~0.3 s a user; what is tested here is not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_reference_copies():
    # Each test rolls its rows back: copies of rules and channels must not outlive it.
    from core import refcache

    refcache.reset(pending=True)
    yield
    refcache.reset(pending=True)


@pytest.fixture(autouse=True)
def _channel_layer_free_of_dead_loops():
    """A test whose event loop stopped while one of its sockets was receiving (a hung consumer,
    a server thread that did not finish) leaves the Redis layer counting that receive, and every
    later receive from another loop fails with "Two event loops are trying to receive()". Such a
    layer is dropped so the next test starts with a fresh one; one failure stays one failure."""
    from channels.layers import channel_layers

    layer = channel_layers.backends.get("default")
    if getattr(layer, "receive_count", 0):
        channel_layers.backends.pop("default", None)
    yield


_finished_with = {"status": 0}


def pytest_sessionfinish(session, exitstatus):
    _finished_with["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The run is over and reported: a thread a failed test left blocked (an executor thread
    waiting on a socket that never answers) must not keep the process, and CI, waiting forever
    on the interpreter's join of non-daemon threads. Give them a moment, then leave."""
    deadline = time.monotonic() + 10
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [
        t.name
        for t in threading.enumerate()
        if t is not threading.main_thread() and not t.daemon and t.is_alive()
    ]
    if stuck:
        print(f"\nthreads still blocked after the run, not waited for: {stuck}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_finished_with["status"])


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def team(db):
    return TeamFactory(slug="support", name="Support")


@pytest.fixture
def other_team(db):
    return TeamFactory(slug="sales", name="Sales")


@pytest.fixture
def agent(team):
    return AgentFactory(username="alice", teams=[team])


@pytest.fixture
def lead(team):
    return LeadFactory(username="lead", teams=[team])


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="admin")


@pytest.fixture
def viewer(db):
    return ViewerFactory(username="pat")


@pytest.fixture
def client_for(api_client):
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


@pytest.fixture
def published(monkeypatch):
    """Events fanned out after commit, in order (use with django_capture_on_commit_callbacks)."""
    from inbox import events

    seen = []
    original = events.dispatch_batch

    def record(batch):
        seen.extend(batch)
        return original(batch)

    monkeypatch.setattr(events, "dispatch_batch", record)
    return seen


@pytest.fixture
def vendor():
    return connection.vendor


@pytest.fixture
def http_server():
    """A local HTTP server standing in for a provider API (see tests/support/http.py)."""
    from tests.support.http import LocalHTTPServer

    with LocalHTTPServer() as provider:
        yield provider
