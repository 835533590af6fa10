"""Static files: the image's build collects them compressed under hashed names with a manifest,
and pages link those; without a manifest (`make run`, the tests) pages link and whitenoise serves
the files under their own names. Real `collectstatic` and settings in fresh interpreters."""

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
from django.templatetags.static import static
from django.test import Client
client = Client()
url = static("css/app.css")
asset = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
login = client.get("/login/")
print(json.dumps({
    "storage": settings.STORAGES["staticfiles"]["BACKEND"].rsplit(".", 1)[1],
    "url": url,
    "status": asset.status_code,
    "encoding": asset.headers.get("Content-Encoding"),
    "cache": asset.headers.get("Cache-Control"),
    "login": login.status_code,
    "linked": url in login.content.decode(),
}))
"""


def run(tmp_path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "STATIC_ROOT", "STATIC_MANIFEST"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SWITCHBOARD_DATA_DIR=str(tmp_path / "data"),
        SECRET_KEY="static-test-key",
        **extra,
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def probe(tmp_path, **extra: str) -> dict:
    out = run(tmp_path, "-c", PROBE, **extra)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_collected_files_are_compressed_hashed_and_linked_by_pages(tmp_path):
    static_root = tmp_path / "staticfiles"
    # As the Dockerfile's build step runs it.
    build = run(
        tmp_path, "manage.py", "collectstatic", "--noinput", "-v0",
        STATIC_ROOT=str(static_root), STATIC_MANIFEST="true",
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/app.css"]
    assert hashed != "css/app.css" and (static_root / f"{hashed}.gz").is_file()

    # At run time the manifest is found: no switch needed.
    served = probe(tmp_path, STATIC_ROOT=str(static_root))
    assert served["storage"] == "CompressedManifestStaticFilesStorage"
    assert served["url"] == f"/static/{hashed}"
    assert served["login"] == 200 and served["linked"]
    assert served["status"] == 200 and served["encoding"] == "gzip"
    assert "immutable" in served["cache"]  # a hashed name never changes: cached for good


def test_without_a_manifest_pages_render_and_files_are_served_under_their_own_names(tmp_path):
    served = probe(tmp_path)
    assert served["storage"] == "CompressedStaticFilesStorage"
    assert served["url"] == "/static/css/app.css"
    assert served["login"] == 200 and served["linked"] and served["status"] == 200
