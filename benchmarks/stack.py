"""Start and stop the real stack for a benchmark: a fresh PostgreSQL database, Redis, the ASGI
server with the worker processes a deployment on this machine would use, and a Celery worker."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn/celery fork workers), in MB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True
        ).stdout.split()
        pids += [int(c) for c in children]
    except FileNotFoundError:
        pass
    per_process = []
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kb = int(line.split()[1])
                    total += kb
                    per_process.append(kb / 1024)
        except FileNotFoundError:
            continue
    return max(per_process) if per_process else 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its direct children (uvicorn and
    Celery fork their workers): unlike rates, it does not depend on what else runs on the box."""
    pids = [pid]
    try:
        children = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True
        ).stdout.split()
        pids += [int(c) for c in children]
    except FileNotFoundError:
        pass
    ticks = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


# Written by the harness right after it empties a Redis database: the mark that the database is
# the benchmark's own, so the next run may empty it again.
OWNER_KEY = "switchboard:benchmark:owns-this-database"


class NotOurs(RuntimeError):
    """The Redis database given to the harness may hold someone else's data: left untouched."""


def claim_redis(url: str, *, force: bool = False) -> None:
    """Empty the Redis database at `url` for a benchmark run, if it is the benchmark's own: not
    database 0 (every program's default) and holding no key unless the harness marked it before.
    `force` (--flush-redis) empties it anyway."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        number = int(client.connection_pool.connection_kwargs.get("db") or 0)
        if not force and number == 0:
            raise NotOurs(
                f"{url} is Redis database 0, the one every program uses by default: the "
                "benchmark empties the database it is given. Give it a number of its own "
                "(--redis-url redis://HOST:6379/14), or pass --flush-redis to empty this one."
            )
        keys = client.dbsize()
        if not force and keys and not client.exists(OWNER_KEY):
            raise NotOurs(
                f"{url} holds {keys} keys the benchmark did not write: the benchmark empties the "
                "database it is given. Give it an empty database of its own, or pass "
                "--flush-redis to empty this one."
            )
        client.flushdb()
        client.set(OWNER_KEY, "python -m benchmarks")
    finally:
        client.close()


class Stack:
    def __init__(
        self,
        *,
        database: str,
        redis_url: str,
        web_workers: int = 2,
        worker_concurrency: int = 1,
        flush_redis: bool = False,
        keep_database: bool = False,
    ):
        # As docker-compose.yml deploys this 2-core box: two web processes, one worker process.
        self.admin_url = "postgres://postgres@127.0.0.1:5432/postgres"
        self.database = database
        self.flush_redis = flush_redis
        # reset_database() creates the database; leaving the `with` block drops it unless kept.
        self.keep_database = keep_database
        self.created_database = False
        self.database_url = f"postgres://postgres@127.0.0.1:5432/{database}"
        self.redis_url = redis_url
        self.web_workers = web_workers
        self.worker_concurrency = worker_concurrency
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "benchmark-secret-key",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMBEDDED_SCHEDULER": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SWITCHBOARD_DATA_DIR": str(ROOT / "var" / "bench"),
            # The load client is one provider on one address: the per-channel-and-address
            # inbound limit (2,000/s by default) would measure the limiter, not the door.
            "THROTTLE_INBOUND": "1000000/s",
        }

    def run(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def reset_database(self) -> None:
        claim_redis(self.redis_url, force=self.flush_redis)  # before anything is written
        self.create_database()
        self.run("migrate", "--noinput")
        self.run("seed_demo", "--conversations", "0", "--history-days", "0")

    def create_database(self) -> None:
        self.drop_database()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.created_database = True

    def drop_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self.database],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
        self.created_database = False

    def start(self) -> None:
        self.processes["web"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.web_workers),
                "--http",
                "httptools",
                "--loop",
                "uvloop",
                "--no-access-log",
                "--log-level",
                "warning",
                "--lifespan",
                "off",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        self.processes["worker"] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency",
                str(self.worker_concurrency),
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-P",
                "prefork",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the web server did not become ready")

    def cpu(self) -> dict:
        return {name: cpu_seconds(p.pid) for name, p in self.processes.items()}

    def rss(self) -> dict:
        return {name: round(rss_mb(p.pid), 1) for name, p in self.processes.items()}

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if self.created_database and not self.keep_database:
            self.drop_database()


def machine() -> dict:
    import platform

    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres") as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = (
        subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True
        ).stdout.split()[2]
        if shutil.which("redis-server")
        else "unknown"
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis_version.replace("v=", ""),
        "kernel": platform.release(),
    }
