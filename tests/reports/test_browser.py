"""The Reports page in headless Chromium: charts drawn by the static chart script under the
CSP (no console errors, no inline script), and a CSV download that holds the chart's numbers."""

import datetime as dt
import itertools
from pathlib import Path

import pytest

from tests.reports.scenario import WEEK, Week
from tests.workspace.browser import PASSWORD, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def week_signed_in_as_lead(page, server, settings):
    """The known week played and rolled up, its lead signed in."""
    settings.REPORTS_TIME_ZONE = "UTC"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    week = Week().play()
    week.roll_up()
    week.lead.set_password(PASSWORD)
    week.lead.save()
    login(page, server, "lead")


def test_the_reports_page_draws_charts_and_downloads_csv(page, server, settings):
    week_signed_in_as_lead(page, server, settings)
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


def test_the_heatmap_names_the_weekdays_in_the_readers_language(page, server, settings):
    week_signed_in_as_lead(page, server, settings)
    from accounts.models import User

    User.objects.filter(username="lead").update(language="id")
    page.goto(f"{server}/reports/?from={WEEK[0]}&to={WEEK[1]}")
    page.wait_for_selector("body[data-charts=drawn]")
    rows = page.eval_on_selector_all(
        '[data-chart="busiest-hours"] svg text.axis[text-anchor=end]',
        "ts => ts.map(t => t.textContent)",
    )
    assert rows == ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"]  # Monday first
    assert page.problems == []


X_LABELS = """(chart) => Array.from(
    document.querySelectorAll('[data-chart="' + chart + '"] svg text.axis[text-anchor=middle]')
).map((t) => { const b = t.getBoundingClientRect(); return [t.textContent, b.left, b.right]; })"""


@pytest.mark.parametrize("days", [30, 90])
def test_date_labels_do_not_overlap_on_long_ranges(page, server, settings, days):
    week_signed_in_as_lead(page, server, settings)
    last = dt.date.fromisoformat(WEEK[1])
    first = last - dt.timedelta(days=days - 1)
    page.goto(f"{server}/reports/?from={first}&to={last}&group_by=day")
    page.wait_for_selector("body[data-charts=drawn]")
    for chart in ("volume", "response-times", "sla", "first-contact-resolution", "csat", "tags"):
        labels = page.evaluate(X_LABELS, chart)
        texts = [text for text, _, _ in labels]
        assert texts[0] == first.isoformat() and texts[-1] == last.isoformat(), chart
        assert len(labels) >= 4, chart  # thinned to what fits, not to a bare two
        for (a, _, a_right), (b, b_left, _) in itertools.pairwise(labels):
            assert a_right <= b_left, f"{chart}: {a} overlaps {b}"
    shot(page, f"reports-{days}-days")
    assert page.problems == []


Y_TICKS = """(chart) => Array.from(
    document.querySelectorAll('[data-chart="' + chart + '"] svg text.axis[text-anchor=end]')
).map((t) => t.textContent)"""


def test_short_times_are_charted_in_minutes_with_ticks_that_differ(page, server, settings):
    week_signed_in_as_lead(page, server, settings)
    # Sales only: E, answered in 20 minutes and resolved in an hour; in hours the ticks would
    # have read 0, 0.3, 0.5 ... and the first response a bare "0.3".
    page.goto(f"{server}/reports/?from={WEEK[0]}&to={WEEK[1]}&team=sales")
    page.wait_for_selector("body[data-charts=drawn]")
    titles = page.locator('[data-chart="response-times"] svg circle title').all_text_contents()
    assert "First response median (min), 2026-11-19: 20" in titles
    ticks = page.evaluate(Y_TICKS, "response-times")
    assert len(ticks) == 5 and len(set(ticks)) == 5 and ticks[-1] != "0", ticks
    assert page.problems == []


def test_figures_are_written_as_the_readers_language_writes_them(page, server, settings):
    """A lead whose profile says Indonesian reads 2,3 (not 2.3) on the charts and summaries."""
    week_signed_in_as_lead(page, server, settings)
    from accounts.models import User

    User.objects.filter(username="lead").update(language="id")
    page.goto(f"{server}/reports/?from={WEEK[0]}&to={WEEK[1]}")
    page.wait_for_selector("body[data-charts=drawn]")
    title = page.locator('[data-chart="response-times"] svg circle title').first.text_content()
    assert title.endswith("2026-11-16: 2,3"), title  # 8100 s
    assert page.problems == []
