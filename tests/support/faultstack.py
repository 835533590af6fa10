"""The real distributed stack (uvicorn + a Celery worker, in subprocesses) connected to the test
database and the test Redis through TCP proxies that a test can cut and restore: outages of
PostgreSQL or Redis without stopping the machine's shared servers.

The processes use the database pytest-django created (so the test sees and seeds the same rows;
use `transactional_db`) and the test's Redis database, reached through the proxies.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from benchmarks.stack import ROOT, Stack
from tests.support.proxy import TCPProxy

CELERY_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


def forget_queued_tasks(redis_url: str) -> None:
    """Empty Celery's queue in the test Redis database, so no task of an earlier test runs here."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*CELERY_KEYS)
    finally:
        client.close()


class FaultStack(Stack):
    """Web server and worker behind proxies. `db_proxy.cut()` is PostgreSQL going away,
    `redis_proxy.cut()` Redis going away; `restore()` brings them back on the same port."""

    def __init__(self, *, data_dir: Path, worker_concurrency: int = 1, extra_env=None):
        from django.conf import settings
        from django.db import connection

        db = connection.settings_dict
        self.db_proxy = TCPProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
        redis_parts = urlsplit(settings.REDIS_URL)
        self.direct_redis_url = settings.REDIS_URL
        self.redis_proxy = TCPProxy(redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379)
        self.db_proxy.__enter__()
        self.redis_proxy.__enter__()
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        database_url = f"postgres://{user}{password}@127.0.0.1:{self.db_proxy.port}/{db['NAME']}"
        netloc = redis_parts.netloc.rsplit("@", 1)
        auth = f"{netloc[0]}@" if len(netloc) == 2 else ""
        redis_url = urlunsplit(
            redis_parts._replace(netloc=f"{auth}127.0.0.1:{self.redis_proxy.port}")
        )
        super().__init__(
            database=db["NAME"],
            redis_url=redis_url,
            web_workers=1,
            worker_concurrency=worker_concurrency,
        )
        self.env.update(
            {
                "DATABASE_URL": database_url,
                "SWITCHBOARD_DATA_DIR": str(data_dir),
                "SECRET_KEY": "fault-test-secret-key",
                "LOG_LEVEL": "ERROR",
                "DB_POOL_MAX_SIZE": "4",
                "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
                "WEBHOOK_CONNECT_TIMEOUT": "2",
                **(extra_env or {}),
            }
        )
        # The subprocesses import the project from ROOT: this worktree, not an installed copy.
        self.env["PYTHONPATH"] = str(ROOT)
        for name in ("DJANGO_SETTINGS_MODULE",):
            self.env[name] = "config.settings"
        forget_queued_tasks(self.direct_redis_url)

    # --- processes ---------------------------------------------------------------------------

    def start_web(self) -> None:
        self.processes["web"] = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "config.asgi:application",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
                "--no-access-log", "--log-level", "warning", "--lifespan", "off",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.processes["web"].poll() is not None:
                raise RuntimeError("the web server exited")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the web server did not start")

    def start_worker(self) -> None:
        self.processes["worker"] = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--concurrency", str(self.worker_concurrency), "--loglevel", "WARNING",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-P", "prefork",
                "--hostname", f"faults-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )  # fmt: skip

    def worker_children(self) -> list[int]:
        """The pool processes of the worker (the ones that run tasks)."""
        worker = self.processes["worker"]
        out = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
        ).stdout.split()
        return [int(pid) for pid in out]

    def kill(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        # Tests end by killing: a clean shutdown proves nothing here and costs seconds.
        for name in list(self.processes):
            self.kill(name)
        self.db_proxy.__exit__()
        self.redis_proxy.__exit__()
        forget_queued_tasks(self.direct_redis_url)


def wait_for(predicate, *, timeout: float = 15.0, interval: float = 0.1, message: str = ""):
    """Poll until `predicate()` is truthy; return its value, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"gave up waiting after {timeout} s")
        time.sleep(interval)
