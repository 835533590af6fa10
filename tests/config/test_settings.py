"""The settings switch on DATABASE_URL and REDIS_URL (and the Redis role URLs), read in a fresh
interpreter each time."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "embedded": settings.EMBEDDED,
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "layer_hosts": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts"),
    "scheduler": settings.EMBEDDED_SCHEDULER,
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
}))
"""


def settings_with(tmp_path, **env):
    return json.loads(probe(tmp_path, **env).stdout.strip().splitlines()[-1])


def probe(tmp_path, check=True, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "CACHE_URL",
            "CHANNEL_LAYER_URL",
            "DEBUG",
            "ALLOWED_HOSTS",
            "CELERY_TASK_ALWAYS_EAGER",
            "EMBEDDED_SCHEDULER",
        }
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings", SWITCHBOARD_DATA_DIR=str(tmp_path), **env
    )
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=check,
    )


def test_embedded_defaults_need_no_service(tmp_path):
    s = settings_with(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "switchboard.sqlite3")
    assert s["embedded"] and s["eager"] and s["scheduler"]
    assert s["broker"] == "memory://"
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["cache"].endswith("LocMemCache")
    assert s["layer_hosts"] is None and s["cache_location"] is None
    assert s["debug"] is False


def test_database_url_selects_postgresql(tmp_path):
    s = settings_with(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/switchboard")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "switchboard"


def test_redis_url_switches_broker_layer_and_cache(tmp_path):
    s = settings_with(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3")
    assert not s["embedded"] and not s["eager"] and not s["scheduler"]
    assert s["broker"] == "redis://127.0.0.1:6379/3"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["cache"] == "core.cache.SharedPoolRedisCache"  # Django's, one pool per process
    assert s["cache_location"] == "redis://127.0.0.1:6379/3"
    assert [h["address"] for h in s["layer_hosts"]] == ["redis://127.0.0.1:6379/3"]


def test_each_redis_role_can_point_elsewhere_with_redis_url_for_the_rest(tmp_path):
    s = settings_with(
        tmp_path, REDIS_URL="redis://shared:6379/0", CHANNEL_LAYER_URL="redis://live:6379/1"
    )
    assert not s["embedded"]
    assert s["broker"] == "redis://shared:6379/0"
    assert s["cache_location"] == "redis://shared:6379/0"
    assert [h["address"] for h in s["layer_hosts"]] == ["redis://live:6379/1"]

    s = settings_with(
        tmp_path,
        REDIS_URL="redis://shared:6379/0",
        CELERY_BROKER_URL="redis://queue:6379/2",
        CACHE_URL="redis://cache:6379/3",
    )
    assert s["broker"] == "redis://queue:6379/2"
    assert s["cache_location"] == "redis://cache:6379/3"
    assert [h["address"] for h in s["layer_hosts"]] == ["redis://shared:6379/0"]


def test_the_three_role_urls_without_redis_url_make_distributed_mode(tmp_path):
    s = settings_with(
        tmp_path,
        CELERY_BROKER_URL="redis://queue:6379/2",
        CACHE_URL="redis://cache:6379/3",
        CHANNEL_LAYER_URL="redis://live:6379/1",
    )
    assert not s["embedded"] and not s["eager"] and not s["scheduler"]
    assert s["broker"] == "redis://queue:6379/2"
    assert s["cache"] == "core.cache.SharedPoolRedisCache"
    assert s["cache_location"] == "redis://cache:6379/3"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert [h["address"] for h in s["layer_hosts"]] == ["redis://live:6379/1"]


def test_some_role_urls_without_redis_url_refuse_to_start_and_name_the_missing(tmp_path):
    # A worker on a broker beside an in-process layer and cache would lose live updates and
    # rate counts silently: refused instead.
    out = probe(tmp_path, check=False, CELERY_BROKER_URL="redis://queue:6379/2")
    assert out.returncode != 0
    assert "ImproperlyConfigured" in out.stderr
    assert "missing: CACHE_URL, CHANNEL_LAYER_URL" in out.stderr


def test_the_layers_redis_reads_outlast_its_blocking_wait(tmp_path):
    # The live test is tests/reliability/test_faults_websocket.py (an idle socket for 12 s).
    from channels_redis.core import RedisChannelLayer

    s = settings_with(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["layer_hosts"][0]["socket_timeout"] > RedisChannelLayer.brpop_timeout


def test_debug_and_allowed_hosts_come_from_the_environment(tmp_path):
    s = settings_with(tmp_path, DEBUG="true", ALLOWED_HOSTS="inbox.example.com, api.example.com")
    assert s["debug"] is True
    assert s["hosts"] == ["inbox.example.com", "api.example.com"]


def test_each_install_gets_its_own_secret_key(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(SWITCHBOARD_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    probe = "import django; from django.conf import settings; django.setup(); print(settings.SECRET_KEY)"
    first = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    key = first.stdout.strip().splitlines()[-1]
    assert key == second.stdout.strip().splitlines()[-1] and len(key) > 40
    assert "insecure" not in key and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
