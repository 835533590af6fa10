import shutil

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.accounts.factories import (
    AdminFactory,
    AgentFactory,
    LeadFactory,
    TeamFactory,
    ViewerFactory,
)


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

    with LocalHTTPServer() as server:
        yield server
