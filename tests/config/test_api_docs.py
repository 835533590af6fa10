"""The API documentation pages under the app's own Content-Security-Policy: served from our
static files (drf-spectacular-sidecar and static/api_docs/), no inline script or style, no
third-party fonts or CDN; and, in Chromium, their operations actually render."""

import re

import pytest

from tests.workspace.browser import ARTIFACTS

pytestmark = pytest.mark.django_db

DOCS = ["/api/docs/", "/api/redoc/"]


@pytest.mark.parametrize("path", DOCS)
def test_the_docs_pages_have_no_inline_script_or_style_and_nothing_from_elsewhere(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts and all(body.strip() == "" for body in scripts), "inline script"
    assert all(src.startswith("/static/") for src in re.findall(r'src="([^"]+)"', html))
    assert "<style" not in html and " style=" not in html
    assert "http://" not in html and "https://" not in html  # no font CDN, nothing from elsewhere


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "operation"),
    [("/api/docs/", ".opblock-summary-path"), ("/api/redoc/", "[data-section-id^='operation/']")],
)
def test_the_docs_list_operations_under_the_csp_in_chromium(page, server, path, operation):
    blocked = []
    page.on(
        "console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None
    )
    response = page.goto(f"{server}{path}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(operation, timeout=15000)
    titles = page.locator(operation).all_inner_texts()
    assert any("/api/v1/conversations/" in t for t in titles) or len(titles) > 10
    ARTIFACTS.mkdir(exist_ok=True)  # the first screenful: the pages are very long
    page.screenshot(path=str(ARTIFACTS / f"api-{path.strip('/').split('/')[-1]}.png"))
    assert [m for m in blocked if "script" in m] == []
