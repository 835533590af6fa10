"""A production environment passes Django's deployment checklist: HSTS, HTTPS redirect, Secure
cookies and the proxy's scheme header all come from the environment (docs/operations.md,
"Production environment"). `manage.py check --deploy` runs in a fresh interpreter each time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The variables of docs/operations.md's production environment that concern the checklist.
PRODUCTION = {
    "SECRET_KEY": "k3J9v0-production-key-of-sixty-characters-and-more-xq7Lp2Zr8Tn4Wc",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "inbox.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://inbox.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}
# Left out of the child's environment too: what earlier tests in this process set (the browser
# tests allow async-unsafe calls for Playwright), which no deployment has.
OURS = {
    *PRODUCTION,
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", SWITCHBOARD_DATA_DIR=str(tmp_path))
    clean.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def deploy_check(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **env)


def test_a_production_environment_passes_check_deploy(tmp_path):
    check = deploy_check(tmp_path, **PRODUCTION)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout
    assert "WARNING" not in check.stderr


def test_without_them_check_deploy_names_what_is_missing(tmp_path):
    env = {k: PRODUCTION[k] for k in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")}
    check = deploy_check(tmp_path, **env)
    assert check.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in check.stderr


PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in [
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
]}))
"""


@pytest.mark.parametrize(
    "header",
    ["HTTP_X_FORWARDED_PROTO,https", "X-Forwarded-Proto, https", "x-forwarded-proto,https"],
)
def test_the_proxy_header_is_read_in_either_spelling(tmp_path, header):
    out = run(tmp_path, "-c", PROBE, SECURE_PROXY_SSL_HEADER=header)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["SECURE_PROXY_SSL_HEADER"] == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


def test_development_defaults_stay_plain_http(tmp_path):
    out = run(tmp_path, "-c", PROBE)
    assert json.loads(out.stdout.splitlines()[-1]) == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_a_malformed_proxy_header_stops_the_start(tmp_path):
    out = run(tmp_path, "-c", PROBE, SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert out.returncode != 0
    assert 'SECURE_PROXY_SSL_HEADER must be "HEADER,value"' in out.stderr


@pytest.mark.django_db
def test_behind_the_proxy_plain_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    plain = client.get("/login/", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"

    secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code != 301
    assert secure["Strict-Transport-Security"] == "max-age=31536000"

    # The load balancer's and the compose healthcheck's probes speak plain HTTP inside.
    assert client.get("/healthz").status_code == 200
