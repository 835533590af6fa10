"""Settings > Teams and people: the same services as /api/v1/teams|users|memberships/."""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Membership, Team, User
from tests.accounts.factories import AgentFactory

pytestmark = pytest.mark.django_db

PAGE = "/inbox/settings/teams/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_sees_teams_with_members_and_people(admin_user, agent, team):
    page = logged_in(admin_user).get(PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Support" in text and "alice" in text and "Invite someone" in text


def test_agent_is_refused_and_lead_sees_only_their_team(agent, lead, other_team):
    assert logged_in(agent).get(PAGE).status_code == 403
    page = logged_in(lead).get(PAGE).content.decode()
    assert "Support" in page and "Sales" not in page and "Invite someone" not in page


def test_admin_creates_a_team_invites_and_sets_a_person(admin_user, team):
    client = logged_in(admin_user)
    assert client.post(f"{PAGE}add/", {"name": "Billing"}).status_code == 302
    billing = Team.objects.get(slug="billing")
    invited = client.post(
        "/inbox/settings/people/invite/",
        {"email": "rina@example.org", "role": "agent", "team": "billing"},
    )
    assert invited.status_code == 302 and mail.outbox[0].to == ["rina@example.org"]
    rina = User.objects.get(email="rina@example.org")
    assert "Send the invitation again" in client.get(PAGE).content.decode()
    assert client.post(f"/inbox/settings/people/{rina.pk}/resend/").status_code == 302
    assert len(mail.outbox) == 2
    assert Membership.objects.filter(user=rina, team=billing).exists()
    saved = client.post(
        f"/inbox/settings/people/{rina.pk}/",
        {"role": "lead", "capacity": "4", "time_zone": "Asia/Jakarta"},
    )
    assert saved.status_code == 302
    rina.refresh_from_db()
    assert (rina.role, rina.capacity, rina.time_zone) == ("lead", 4, "Asia/Jakarta")
    bad = client.post(f"/inbox/settings/people/{rina.pk}/", {"time_zone": "Nowhere/Land"})
    assert bad.status_code == 400 and "time zone" in bad.content.decode()


def test_lead_adds_and_removes_a_member_of_their_team(lead, team, other_team):
    bob = AgentFactory(username="bob")
    client = logged_in(lead)
    assert (
        client.post(f"/inbox/settings/teams/{team.pk}/members/", {"user": bob.pk}).status_code
        == 302
    )
    membership = Membership.objects.get(user=bob, team=team)
    refused = client.post(f"/inbox/settings/teams/{other_team.pk}/members/", {"user": bob.pk})
    assert refused.status_code == 403
    assert client.post(f"/inbox/settings/memberships/{membership.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
