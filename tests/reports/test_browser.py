"""The Reports page in headless Chromium: charts drawn by the static chart script under the
CSP (no console errors, no inline script), and a CSV download that holds the chart's numbers."""

from pathlib import Path

import pytest

from tests.reports.scenario import WEEK, Week
from tests.ui.test_browser import PASSWORD, chromium, login, page, server, shot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reports_page_draws_charts_and_downloads_csv(page, server, settings):  # noqa: F811
    settings.REPORTS_TIME_ZONE = "UTC"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    week = Week().play()
    week.roll_up()
    week.lead.set_password(PASSWORD)
    week.lead.save()
    login(page, server, "lead")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(f"{server}/reports/")
    page.goto(f"{server}/reports/?from={WEEK[0]}&to={WEEK[1]}")
    page.wait_for_selector("body[data-charts=drawn]")
    assert page.locator('[data-chart="volume"] svg path.series').count() == 4
    assert page.locator('[data-chart="volume"] svg circle').count() == 4 * 7
    assert page.locator('[data-chart="busiest-hours"] svg rect.cell').count() == 7 * 24
    assert page.locator('[data-chart="csat"] svg rect.sb-bar').count() == 2 * 7
    assert "4" in page.locator('[data-summary="volume"]').inner_text()
    title = page.locator('[data-chart="response-times"] svg circle title').first.text_content()
    assert "First response median (h), 2026-11-16: 2.3" in title  # 8100 s
    shot(page, "reports")

    with page.expect_download() as download:
        page.locator('a.csv[data-report="volume"]').click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "period,created,resolved,reopened,backlog"
    assert lines[1] == "2026-11-16,1,2,0,0"
    assert download.value.suggested_filename.startswith("volume-")
    assert page.problems == []
