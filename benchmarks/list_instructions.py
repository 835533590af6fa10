"""Instructions the web code runs per list API request, counted by valgrind's callgrind: unlike
wall-clock or CPU time on this shared 2-core box, the count is the same run after run, so a change
of a few percent can be believed. The requests go through Django's test client in this process
(the whole middleware chain, DRF and the view; not uvicorn), logged in as the list step's agent,
against a database populated by the list step (`--keep-database`); PostgreSQL's own work is not
counted (another process). Two runs of different lengths are subtracted, so start-up and warm-up
cancel out.

python -m benchmarks.list_instructions --database bench_me --redis-url redis://127.0.0.1:6379/3
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from benchmarks.scale import USER, list_api_paths

PATHS = [
    "mine",
    "team",
    "tag=feature-request",
    "q middling (mobile), team",
    "q common (invoice), all",
]


def client_loop(rounds: int) -> None:
    """Runs inside valgrind: 2 warm rounds, then `rounds` rounds of the paths."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    paths = [list_api_paths()[name] for name in PATHS]
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=USER))
    for _ in range(2 + rounds):
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")


def count(env: dict, rounds: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
             sys.executable, "-m", "benchmarks.list_instructions", "--inside", str(rounds)],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--inside":
        client_loop(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install -y valgrind")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": "benchmark-secret-key",
        "DEBUG": "false",
        "LOG_LEVEL": "ERROR",
        "THROTTLE_USER": "1000000/min",  # the loop is faster than an agent's rate
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    began = time.perf_counter()
    short, long = count(env, 2), count(env, 12)
    per_request = (long - short) / (10 * len(PATHS))
    print(f"paths: {', '.join(PATHS)}")
    print(f"instructions per list request: {per_request / 1e6:.2f} M")
    print(f"({time.perf_counter() - began:.0f} s under valgrind)")


if __name__ == "__main__":
    main()
