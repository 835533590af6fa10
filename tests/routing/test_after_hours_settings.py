"""Setting a channel's after-hours reply: PUT /api/v1/channels/{id}/after-hours/ (admins) and
the panel on the channel's settings page, one service."""

import pytest
from django.test import Client

from inbox.models import Channel, Event
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(team):
    return ChannelFactory(slug="help", kind="email", default_team=team, config={"keep": 1})


def url(channel) -> str:
    return f"/api/v1/channels/{channel.pk}/after-hours/"


def test_an_admin_switches_it_on_and_the_rest_of_the_config_stays(client_for, admin_user, channel):
    response = client_for(admin_user).put(
        url(channel), {"enabled": True, "text": "  We are closed.  "}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"enabled": True, "text": "We are closed."}
    channel.refresh_from_db()
    assert channel.config == {"keep": 1, "after_hours": {"enabled": True, "text": "We are closed."}}
    assert client_for(admin_user).get(url(channel)).json()["enabled"] is True
    assert Event.objects.filter(type="channel.updated").exists()


def test_agents_may_not(client_for, agent, channel):
    assert client_for(agent).put(url(channel), {"enabled": False}, format="json").status_code == 403
    assert client_for(agent).get(url(channel)).status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"enabled": True, "text": ""}, "text"),
        ({"text": "x"}, "enabled"),
        ({"enabled": "maybe"}, "enabled"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(client_for, admin_user, channel, body, field):
    response = client_for(admin_user).put(url(channel), body, format="json")
    assert response.status_code == 400 and field in response.json()
    channel.refresh_from_db()
    assert "after_hours" not in channel.config


def test_the_channel_page_panel_saves_it(admin_user, agent, channel):
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
    assert "After-hours reply" in page
    saved = client.post(
        f"/inbox/settings/channels/{channel.pk}/after-hours/",
        {"enabled": "on", "text": "Closed for the night."},
    )
    assert saved.status_code == 302
    assert (
        Channel.objects.get(pk=channel.pk).config["after_hours"]["text"] == "Closed for the night."
    )
    refused = client.post(f"/inbox/settings/channels/{channel.pk}/after-hours/", {"enabled": "on"})
    assert refused.status_code == 302
    assert "Write the message to send after hours." in client.get(refused.url).content.decode()
    assert Channel.objects.get(pk=channel.pk).config["after_hours"]["enabled"] is True
    other = Client()
    other.force_login(agent)
    denied = other.post(f"/inbox/settings/channels/{channel.pk}/after-hours/", {"enabled": ""})
    assert denied.status_code == 403
