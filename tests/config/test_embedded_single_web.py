"""Embedded mode refuses a second web process (config/embedded.py): its live-update layer and
scheduler live in one process's memory. Real uvicorn processes on a fresh data folder."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from config import embedded
from config.redis_roles import ROLES

ROOT = Path(__file__).resolve().parents[2]
REASON = "Embedded mode (REDIS_URL unset) runs ONE web process"


def embedded_env(data_dir: Path, **extra: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "CELERY_TASK_ALWAYS_EAGER", *ROLES}
    }
    # The scheduler would only log errors on this unmigrated database.
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SWITCHBOARD_DATA_DIR=str(data_dir),
        EMBEDDED_SCHEDULER="false",
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def uvicorn(env: dict, port: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--lifespan", "on", "--log-level", "warning", *args,
        ],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its workers are killed with it (kill_all)
    )  # fmt: skip


def kill_all(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stopped(process: subprocess.Popen, timeout: float = 40) -> str:
    """Wait for the server to exit by itself; its log."""
    try:
        _out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_all(process)
        raise AssertionError(f"still serving after {timeout} s") from None
    return err


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("args", "extra"), [(["--workers", "2"], {}), ([], {"WEB_CONCURRENCY": "2"})], ids=str
)
def test_two_workers_in_embedded_mode_refuse_to_start(tmp_path, args, extra):
    port = free_port()
    server = uvicorn(embedded_env(tmp_path, **extra), port, *args)
    log = stopped(server)
    assert REASON in log
    assert "--workers" in log and "REDIS_URL" in log
    assert not answers(port)


@pytest.mark.timeout(120)
def test_a_second_server_on_the_same_data_folder_is_refused_and_the_first_keeps_serving(tmp_path):
    env = embedded_env(tmp_path)
    first_port, second_port = free_port(), free_port()
    first = uvicorn(env, first_port)
    try:
        deadline = time.monotonic() + 60
        while not answers(first_port):
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()
            time.sleep(0.3)
        second = uvicorn(env, second_port)
        log = stopped(second)
        assert second.returncode != 0
        assert f"process {first.pid} already serves {tmp_path}" in log
        assert answers(first_port)
    finally:
        kill_all(first)


def test_distributed_mode_takes_no_lock(settings, tmp_path):
    settings.EMBEDDED = False
    settings.DATA_DIR = tmp_path
    assert embedded.claim_web_process() is None
    assert not (tmp_path / "web.lock").exists()
