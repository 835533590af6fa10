"""Teams, business hours and SLA settings end to end in headless Chromium (fixtures from
test_browser.py): an admin adds a member to a team, adds a holiday to a calendar and previews
an SLA policy. Screenshots land in tests/artifacts/."""

import pytest

from accounts.models import Membership
from routing.models import BusinessHours
from tests.accounts.factories import AdminFactory, AgentFactory
from tests.workspace.browser import login, shot, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_a_team_member_and_a_holiday(page, server, support):
    user(AdminFactory, "admin")
    bob = AgentFactory(username="bob", first_name="Bob", last_name="Santoso")
    login(page, server, "admin", "/inbox/settings/teams/")
    page.get_by_label("Add a member").select_option(label="Bob Santoso (bob)")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("text=Bob Santoso is in Support.")
    assert Membership.objects.filter(user=bob, team=support, role="member").exists()
    shot(page, "settings-teams")

    page.goto(f"{server}/inbox/settings/hours/")
    page.get_by_label("Name", exact=True).fill("Jakarta office")
    page.get_by_label("Time zone").fill("Asia/Jakarta")
    page.get_by_label("Holidays, one date a line (YYYY-MM-DD)").fill("2027-03-10")
    page.get_by_label("Support").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Business hours saved.")
    page.get_by_label("Country code").fill("ID")
    page.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Add public holidays").click()
    page.wait_for_selector("text=public holidays added.")
    calendar = BusinessHours.objects.get(name="Jakarta office")
    assert {"2027-01-01", "2027-03-10"} <= set(calendar.holidays)
    assert "2027-01-01" in page.get_by_label("Holidays, one date a line (YYYY-MM-DD)").input_value()
    shot(page, "settings-hours")

    page.goto(f"{server}/inbox/settings/sla/")
    page.get_by_label("Name", exact=True).fill("Support normal")
    page.get_by_label("Only for team").select_option(label="Support")
    page.get_by_label("First response (minutes)").fill("120")
    page.get_by_label("Next response (minutes)").fill("240")
    page.get_by_label("Resolution (minutes)").fill("1440")
    page.get_by_label("Count business hours only").check()
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#sla-preview")
    assert "(Asia/Jakarta)" in page.locator("#sla-preview").inner_text()
    shot(page, "settings-sla-preview")
