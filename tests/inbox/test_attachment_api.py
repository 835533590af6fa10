"""Attachment URLs in the REST API answer an API token (Authorization: Token ...) as the rest of
/api/v1/ does, with the same visibility rule: a token of a user who cannot see the conversation
gets a 404, no credentials a 401."""

import pytest
from rest_framework.test import APIClient

from inbox.intake.doors.email import ingest_email
from inbox.models import Message
from tests.accounts.factories import AgentFactory, ApiTokenFactory, TeamFactory
from tests.inbox.factories import ChannelFactory
from tests.inbox.test_attachment_storage import CONTENT, mail_with_file

pytestmark = pytest.mark.django_db


def with_token(user, *, scopes=("read", "write")) -> APIClient:
    key = f"key-of-{user.username}-" + "0" * 24
    ApiTokenFactory(user=user, scopes=list(scopes), key=key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def stored(team):
    channel = ChannelFactory(slug="help", address="help@support.example.com", default_team=team)
    ingest_email(channel=channel, raw=mail_with_file("figures.bin", CONTENT))
    return Message.objects.get()


def test_the_attachment_url_in_the_api_downloads_the_file_with_a_token(stored, agent):
    client = with_token(agent, scopes=("read",))
    thread = client.get(f"/api/v1/conversations/{stored.conversation_id}/messages/")
    assert thread.status_code == 200
    [message] = thread.json()
    [attachment] = message["attachments"]
    assert attachment["url"].endswith(f"/api/v1/attachments/{attachment['id']}/download/")

    response = client.get(attachment["url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert 'filename="figures.bin"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_client_asking_for_the_files_own_type_is_not_refused(stored, agent):
    attachment = stored.attachments.get()
    response = with_token(agent).get(
        f"/api/v1/attachments/{attachment.pk}/download/", HTTP_ACCEPT="application/octet-stream"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT


def test_a_token_of_a_user_who_cannot_see_the_conversation_gets_404(stored):
    attachment = stored.attachments.get()
    outsider = AgentFactory(username="sam", teams=[TeamFactory(slug="sales")])
    response = with_token(outsider).get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 404
    assert response.json()["detail"]
    missing = with_token(AgentFactory(username="kim", teams=[stored.conversation.team])).get(
        f"/api/v1/attachments/{attachment.pk + 1000}/download/"
    )
    assert missing.status_code == 404


def test_no_credentials_or_a_revoked_token_is_refused(stored, agent):
    from django.utils import timezone

    attachment = stored.attachments.get()
    url = f"/api/v1/attachments/{attachment.pk}/download/"
    assert APIClient().get(url).status_code == 401
    from accounts.models import ApiToken

    client = with_token(agent)
    assert client.get(url).status_code == 200

    ApiToken.objects.filter(user=agent).update(revoked_at=timezone.now())
    assert client.get(url).status_code == 401


def test_a_browser_session_still_downloads_through_the_api_url(stored, agent):
    attachment = stored.attachments.get()
    client = APIClient()
    client.force_login(agent)
    response = client.get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT


def test_a_file_missing_from_the_storage_is_a_clear_404(stored, agent, settings):
    attachment = stored.attachments.get()
    (settings.MEDIA_ROOT / attachment.file.name).unlink()
    response = with_token(agent).get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 404
    assert "missing from the file storage" in response.json()["detail"]
