"""The benchmark harness touches only data it was told is its own: it empties a Redis database
only when that is not database 0 and holds no key it did not write (--flush-redis overrides),
and it drops the PostgreSQL database it created. Redis here is a throwaway server of the test's
own (tests/support/redis_server.py), never the machine's shared one."""

import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from benchmarks.stack import OWNER_KEY, NotOurs, Stack, claim_redis
from tests.support.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]

needs_redis_server = pytest.mark.skipif(
    not shutil.which("redis-server"), reason="needs redis-server (Debian's redis-server)"
)


@pytest.fixture
def server():
    with RedisServer() as running:
        yield running


@needs_redis_server
def test_database_0_is_never_emptied(server):
    with server.client(0) as other:
        other.set("someone:else", "their data")
        with pytest.raises(NotOurs, match="database 0"):
            claim_redis(server.url(0))
        assert other.get("someone:else") == b"their data"


@needs_redis_server
def test_a_database_with_keys_the_harness_did_not_write_is_left_alone(server):
    with server.client(14) as other:
        other.set("someone:else", "their data")
        with pytest.raises(NotOurs, match="holds 1 keys the benchmark did not write"):
            claim_redis(server.url(14))
        assert other.get("someone:else") == b"their data"
        assert not other.exists(OWNER_KEY)


@needs_redis_server
def test_an_empty_database_becomes_the_harness_own_and_is_emptied_on_the_next_run(server):
    with server.client(14) as db:
        claim_redis(server.url(14))
        assert db.exists(OWNER_KEY)
        db.set("celery", "left by the last run")  # what the stack writes while it runs
        claim_redis(server.url(14))
        assert db.keys() == [OWNER_KEY.encode()]
    with server.client(13) as neighbour:
        assert neighbour.dbsize() == 0  # only the database it was given


@needs_redis_server
def test_the_flag_empties_a_database_the_operator_gives_away(server):
    with server.client(0) as db:
        db.set("someone:else", "given away")
        claim_redis(server.url(0), force=True)
        assert db.keys() == [OWNER_KEY.encode()]


@needs_redis_server
def test_the_command_refuses_before_it_starts_anything(server):
    with server.client(0) as other:
        other.set("someone:else", "their data")
        run = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--quick", "--redis-url", server.url(0),
             "--database", "never_created_by_this_test"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 2
        assert "Redis database 0" in run.stderr and "--flush-redis" in run.stderr
        assert other.get("someone:else") == b"their data"


def databases() -> set[str]:
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres") as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


@pytest.mark.postgres
@pytest.mark.parametrize("keep", [False, True])
def test_the_database_the_harness_created_is_dropped_unless_kept(keep):
    name = f"{settings.DATABASES['default']['NAME']}_stack"
    stack = Stack(database=name, redis_url="redis://127.0.0.1:6379/14", keep_database=keep)
    try:
        with stack:
            stack.create_database()
            assert name in databases()
        assert (name in databases()) is keep
    finally:
        stack.drop_database()
    assert name not in databases()
