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


class Stack:
    def __init__(
        self, *, database: str, redis_url: str, web_workers: int = 2, worker_concurrency: int = 1
    ):
        # As docker-compose.yml deploys this 2-core box: two web processes, one worker process.
        self.admin_url = "postgres://postgres@127.0.0.1:5432/postgres"
        self.database = database
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
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self.database],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}"')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        self.run("migrate", "--noinput")
        self.run("seed_demo", "--conversations", "0")

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
