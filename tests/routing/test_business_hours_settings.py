"""Business hours settings (issue 23): /api/v1/business-hours/ and /inbox/settings/hours/, both
through routing.calendars; public holidays from the `holidays` package."""

import pytest
from django.test import Client

from routing import calendars
from routing.models import BusinessHours, TeamPolicy

pytestmark = pytest.mark.django_db

URL = "/api/v1/business-hours/"
WEEK = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "fri": [["09:00", "15:00"]]}


def test_public_holidays_come_from_the_package():
    found = dict(calendars.public_holidays_for("id", 2027))
    assert "2027-01-01" in found and "2027-08-17" in found  # New Year, Independence Day
    assert "2027-01-02" not in found


def test_admin_creates_assigns_and_adds_public_holidays(client_for, admin_user, team):
    created = client_for(admin_user).post(
        URL,
        {
            "name": "Jakarta office",
            "timezone": "Asia/Jakarta",
            "weekly": WEEK,
            "holidays": ["2027-03-03"],
            "teams": ["support"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["teams"] == ["support"] and body["weekly"] == WEEK
    calendar = BusinessHours.objects.get(pk=body["id"])
    assert TeamPolicy.objects.get(team=team).business_hours == calendar
    added = client_for(admin_user).post(
        f"{URL}{calendar.pk}/public-holidays/", {"country": "ID", "year": "2027"}, format="json"
    )
    assert added.status_code == 200 and "2027-01-01" in added.json()["added"]
    calendar.refresh_from_db()
    assert {"2027-01-01", "2027-03-03"} <= set(calendar.holidays)
    bad = client_for(admin_user).post(
        f"{URL}{calendar.pk}/public-holidays/", {"country": "QQ", "year": "2027"}, format="json"
    )
    assert bad.status_code == 400 and "country" in bad.json()
    cleared = client_for(admin_user).patch(f"{URL}{calendar.pk}/", {"teams": []}, format="json")
    assert cleared.status_code == 200
    assert TeamPolicy.objects.get(team=team).business_hours is None


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"weekly": {"mon": [["17:00", "09:00"]]}}, "weekly", "starts after it ends"),
        ({"weekly": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "weekly", "overlap"),
        ({"weekly": {"mon": [["9am", "17:00"]]}}, "weekly", "HH:MM"),
        ({"weekly": {"funday": [["09:00", "17:00"]]}}, "weekly", "not a day"),
        ({"timezone": "Asia/Atlantis"}, "timezone", "time zone"),
        ({"holidays": ["2027-13-01"]}, "holidays", "not a date"),
    ],
)
def test_bad_calendars_are_refused_with_the_field(client_for, admin_user, payload, field, words):
    body = {"name": "X", "timezone": "UTC", "weekly": WEEK, **payload}
    response = client_for(admin_user).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json() and words in " ".join(response.json()[field])
    assert not BusinessHours.objects.exists()


def test_agents_are_refused(client_for, agent):
    calendar = BusinessHours.objects.create(name="C", weekly=WEEK)
    client = client_for(agent)
    assert client.get(URL).status_code == 403
    assert (
        client.post(
            URL, {"name": "X", "timezone": "UTC", "weekly": WEEK}, format="json"
        ).status_code
        == 403
    )
    assert client.patch(f"{URL}{calendar.pk}/", {"name": "Y"}, format="json").status_code == 403
    assert (
        client.post(
            f"{URL}{calendar.pk}/public-holidays/", {"country": "ID", "year": "2027"}
        ).status_code
        == 403
    )
    assert Client().get("/inbox/settings/hours/").status_code == 302  # to the login page


def test_the_page_saves_through_the_same_service(admin_user, agent, team):
    client = Client()
    client.force_login(admin_user)
    form = {
        "name": "Jakarta",
        "timezone": "Asia/Jakarta",
        "day_mon": "09:00-12:00, 13:00-17:00",
        "holidays": "2027-12-25",
        "teams": ["support"],
    }
    saved = client.post("/inbox/settings/hours/", form)
    assert saved.status_code == 302
    calendar = BusinessHours.objects.get()
    assert calendar.weekly == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}
    assert TeamPolicy.objects.get(team=team).business_hours == calendar
    bad = client.post(f"/inbox/settings/hours/{calendar.pk}/", {**form, "day_tue": "10:00-09:00"})
    assert bad.status_code == 400 and "starts after it ends" in bad.content.decode()
    added = client.post(
        f"/inbox/settings/hours/{calendar.pk}/public-holidays/", {"country": "ID", "year": "2027"}
    )
    assert added.status_code == 302
    calendar.refresh_from_db()
    assert "2027-01-01" in calendar.holidays and "2027-12-25" in calendar.holidays
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/inbox/settings/hours/").status_code == 403


def test_a_lead_manages_only_the_calendars_of_their_own_teams(
    client_for, admin_user, lead, team, other_team
):
    client = client_for(lead)
    body = {"name": "Support hours", "timezone": "Asia/Jakarta", "weekly": WEEK}
    assert client.post(URL, body, format="json").status_code == 400  # no team: whose is it?
    assert client.post(URL, {**body, "teams": ["sales"]}, format="json").status_code == 403
    mine = client.post(URL, {**body, "teams": ["support"]}, format="json")
    assert mine.status_code == 201, mine.content
    assert TeamPolicy.objects.get(team=team).business_hours_id == mine.json()["id"]
    added = client.post(
        f"{URL}{mine.json()['id']}/public-holidays/", {"country": "ID", "year": "2027"}
    )
    assert added.status_code == 200
    shared = BusinessHours.objects.create(name="Shared", weekly=WEEK)
    calendars.assign(actor=admin_user, calendar=shared, teams=[other_team])
    assert [c["name"] for c in client.get(URL).json()] == ["Support hours"]
    assert (
        client.patch(f"{URL}{shared.pk}/", {"name": "Mine now"}, format="json").status_code == 404
    )
    calendars.assign(actor=admin_user, calendar=shared, teams=[team, other_team])
    refused = client.patch(f"{URL}{shared.pk}/", {"name": "Mine now"}, format="json")
    assert refused.status_code == 403  # sales uses it too
    shared.refresh_from_db()
    assert shared.name == "Shared"
    page = Client()
    page.force_login(lead)
    assert page.get("/inbox/settings/hours/").status_code == 200
