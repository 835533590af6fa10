"""In headless Chromium: a lead's inbox shows the open spike's banner, its link opens the grouped
list, and the bulk bar sets the severity of all of them; a spike raised while the page is open
adds its banner without a reload (the "spike" frame, as routing.spike_notify pushes it). The
browser, server and helpers are those of test_browser.py."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from inbox.models import Conversation
from tagging.models import SpikeAlert, SpikeAlertConversation
from tests.accounts.factories import LeadFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user = browser.login, browser.shot, browser.user


@pytest.fixture(autouse=True)
def _patient(page):
    # The module's first page load compiles templates and starts the server's threads: on a busy
    # machine it takes longer than the 5 s the other steps get.
    page.set_default_navigation_timeout(30_000)


def open_spike(conversations, watch="incident"):
    alert = SpikeAlert.objects.create(
        kind="tag",
        watch=watch,
        count=len(conversations),
        peak=len(conversations),
        baseline=1.0,
        threshold=5.0,
        window_minutes=60,
        samples=[c.pk for c in conversations],
        opened_at=timezone.now() - dt.timedelta(minutes=3),
    )
    for c in conversations:
        SpikeAlertConversation.objects.create(alert=alert, conversation=c)
    return alert


def test_a_lead_follows_the_banner_and_sets_the_severity_of_the_spike(page, server, support):
    user(LeadFactory, "lead", teams=[support])
    channel = ChannelFactory(slug="web", default_team=support)
    spiked = [ConversationFactory(channel=channel, team=support) for _ in range(5)]
    calm = ConversationFactory(channel=channel, team=support, subject="Unrelated question")
    open_spike(spiked)

    login(page, server, "lead")
    banner = page.get_by_role("region", name="Incident spikes")
    expect(banner).to_contain_text("5 conversations tagged incident in 60 minutes (usually 1).")
    shot(page, "spike-banner")
    banner.get_by_role("link", name="Open the spike's conversations").click()
    rows = page.get_by_role("region", name="Conversations").locator("tbody tr")
    expect(rows).to_have_count(5)
    expect(page.get_by_text("Unrelated question")).to_have_count(0)
    for c in spiked:
        page.get_by_label(f"Select conversation {c.pk}").check()
    page.get_by_label("Selected", exact=True).select_option("severity")
    page.locator("#b-severity").select_option("critical")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_selector("text=5 of 5 conversations changed.")
    assert set(Conversation.objects.filter(severity=4).values_list("pk", flat=True)) == {
        c.pk for c in spiked
    }
    calm.refresh_from_db()
    assert calm.severity == 2
    assert page.problems == []


def test_a_spike_raised_while_the_inbox_is_open_adds_its_banner(page, server, support):
    user(LeadFactory, "lead", teams=[support])
    login(page, server, "lead")
    page.wait_for_selector("body[data-live=connected]")
    expect(page.get_by_role("region", name="Incident spikes")).to_have_count(0)
    frame = {
        "type": "spike",
        "alert": 41,
        "title": "Incident spike:",
        "text": "7 conversations tagged incident in 60 minutes (usually 0).",
        "url": "/inbox/?alert=41&status=any",
        "link": "Open the spike's conversations",
        "region": "Incident spikes",
    }
    page.evaluate("f => document.dispatchEvent(new CustomEvent('feed:spike', {detail: f}))", frame)
    page.evaluate(
        f"document.dispatchEvent(new CustomEvent('feed:spike', {{detail: {json.dumps(frame)}}}))"
    )
    banner = page.get_by_role("region", name="Incident spikes")
    expect(banner).to_contain_text("7 conversations tagged incident in 60 minutes")
    expect(banner.get_by_role("link")).to_have_attribute("href", "/inbox/?alert=41&status=any")
    expect(banner.locator("p")).to_have_count(1)  # the same alert twice shows once
    expect(page.locator("#toasts")).to_contain_text("Incident spike:")
    assert page.problems == []
