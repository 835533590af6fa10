"""An NPS survey answered in headless Chromium through the real page, and the NPS panel of the
Reports page drawn under the CSP."""

import datetime as dt

import pytest

from inbox.services import set_status
from reports.models import SatisfactionSurvey
from tests.reports.scenario import Week, customer_writes, survey_token, undo_window_passes
from tests.workspace.browser import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_nps_survey_answered_in_the_browser_shows_on_the_reports_page(
    page,
    server,
    settings,
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REPORTS_TIME_ZONE = "UTC"
    world = Week()
    world.support.survey_kind = "nps"
    world.support.save()
    conversation = customer_writes(world.mail, "b1", sender="ann@example.com")
    set_status(conversation_id=conversation.pk, status="resolved", actor=world.lead)
    undo_window_passes(conversation)
    token = survey_token(conversation)

    page.goto(f"{server}/survey/{token}/")
    page.get_by_role("heading", name="How likely are you to recommend us").wait_for()
    assert page.locator('input[name="score"]').count() == 11
    page.get_by_label("10", exact=True).check()
    page.get_by_label("Anything to add? (optional)").fill("Lovely people")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your answer (10/10) has been recorded").wait_for()
    page.goto(f"{server}/survey/{token}/")
    page.get_by_text("You have already answered this survey").wait_for()
    assert page.locator('input[name="score"]').count() == 0
    assert SatisfactionSurvey.objects.get(conversation=conversation).score == 10

    world.lead.set_password(PASSWORD)
    world.lead.save()
    login(page, server, "lead")
    today = dt.date.today()
    first = today - dt.timedelta(days=13)
    weeks = len(
        {d - dt.timedelta(days=d.weekday()) for d in (first, first + dt.timedelta(7), today)}
    )
    page.goto(f"{server}/reports/?from={first}&to={today}")
    page.wait_for_selector("body[data-charts=drawn]")
    assert page.locator('[data-figure="nps"]').inner_text() == "100.0"
    # A bar per week for each of promoters, passives and detractors.
    assert page.locator('[data-chart="nps"] svg rect.sb-bar').count() == 3 * weeks
    assert page.locator('[data-chart="ces"] svg').count() == 1
    assert page.problems == []
