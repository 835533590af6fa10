"""A failed reply shows why, and the agent sends it again (issue 22, "Failures visible"): through
the page's Retry and the API's twin, against a local stand-in for the integration's callback."""

import pytest

from inbox.models import Message
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.workspace.test_pages import browser_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused_reply(http_server, team, agent, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    channel = ChannelFactory(
        kind="api", default_team=team, config={"callback_url": f"{http_server.url}/cb"}
    )
    conversation = ConversationFactory(channel=channel, team=team)
    MessageFactory(conversation=conversation, text="Where is my refund?")
    http_server.respond(422, b'{"error": "recipient unknown"}')
    with django_capture_on_commit_callbacks(execute=True):
        message = send_reply(conversation_id=conversation.pk, actor=agent, text="It is on its way.")
    message.refresh_from_db()
    assert message.delivery_status == Message.DeliveryStatus.FAILED
    return message


def test_the_page_shows_why_a_reply_failed_and_retry_delivers_it(
    refused_reply, agent, http_server, django_capture_on_commit_callbacks
):
    client = browser_for(agent)
    page = client.get(f"/inbox/conversations/{refused_reply.conversation_id}/").content.decode()
    assert "Not delivered:" in page
    assert "callback answered 422" in page and "recipient unknown" in page
    assert f'action="/inbox/messages/{refused_reply.pk}/retry/"' in page

    with django_capture_on_commit_callbacks(execute=True):  # the integration answers now
        response = client.post(f"/inbox/messages/{refused_reply.pk}/retry/", follow=True)
    assert "Sending again." in response.content.decode()
    refused_reply.refresh_from_db()
    assert refused_reply.delivery_status == Message.DeliveryStatus.SENT
    assert refused_reply.delivery_error == ""
    assert [r.json()["text"] for r in http_server.requests] == ["It is on its way."] * 2
    assert "Not delivered:" not in response.content.decode()


def test_the_api_retries_only_a_failed_reply_of_a_visible_conversation(
    refused_reply, agent, client_for, other_team, django_capture_on_commit_callbacks
):
    url = (
        f"/api/v1/conversations/{refused_reply.conversation_id}/messages/{refused_reply.pk}/retry/"
    )
    api = client_for(agent)
    with django_capture_on_commit_callbacks(execute=True):
        retried = api.post(url)
    assert retried.status_code == 200, retried.content
    assert Message.objects.get(pk=refused_reply.pk).delivery_status == "sent"
    again = api.post(url)  # it is sent: nothing to retry
    assert again.status_code in (400, 409) and "Only a reply that failed" in again.json()["detail"]

    from tests.accounts.factories import AgentFactory

    stranger = AgentFactory(username="sam", teams=[other_team])
    assert client_for(stranger).post(url).status_code == 404
