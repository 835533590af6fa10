"""`make run` in embedded mode: the demo's Reports show its conversations from the first visit,
and the scheduler thread of the web process keeps them current. Real commands and a real uvicorn
(ASGI lifespan on, as `make run` starts it) on a fresh SQLite file."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from config.redis_roles import ROLES

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(data_dir: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "EMBEDDED_SCHEDULER",
            "CELERY_TASK_ALWAYS_EAGER",
            *ROLES,
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SWITCHBOARD_DATA_DIR=str(data_dir),
        REPORTS_REFRESH_SECONDS="1",
    )
    return env


def manage(env, *args) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url, token, method="GET", body=None) -> dict:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.3)


def test_demo_reports_are_built_and_kept_current_in_embedded_mode(tmp_path):
    env = embedded_env(tmp_path)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--history-days", "0")  # the 36 live ones only

    db = sqlite3.connect(tmp_path / "switchboard.sqlite3")
    refreshed, created = db.execute(
        "SELECT s.refreshed_at, (SELECT SUM(created) FROM reports_dailyrollup WHERE tag_id IS NULL)"
        " FROM reports_rollupstate s"
    ).fetchone()
    conversations = db.execute("SELECT COUNT(*) FROM inbox_conversation").fetchone()[0]
    db.close()
    assert refreshed is not None  # not "Rollups not built yet"
    assert created == conversations == 36

    token = manage(env, "drf_create_token", "admin").split()[2]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uvicorn = ["-m", "uvicorn", "config.asgi:application", "--lifespan", "on"]
    server = subprocess.Popen(
        [sys.executable, *uvicorn, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        volume = f"{base}/api/v1/reports/volume/"
        totals = wait_for(lambda: call(volume, token))["totals"]
        assert (totals["created"], totals["resolved"]) == (36, 0)

        first = call(f"{base}/api/v1/conversations/", token)["results"][0]["id"]
        call(f"{base}/api/v1/conversations/{first}/", token, "PATCH", {"status": "resolved"})
        # No command run: the embedded scheduler's refresh brings the resolve in.
        wait_for(lambda: call(volume, token)["totals"]["resolved"] == 1)
        assert call(volume, token)["totals"]["backlog"] == 35
    finally:
        server.terminate()
        server.wait(timeout=20)
