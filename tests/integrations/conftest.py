import pytest

from inbox.services import add_note
from integrations.services import endpoint_create
from tests.inbox.factories import ConversationFactory


@pytest.fixture
def receiver(http_server, settings):
    """The local HTTP server as a webhook receiver; 127.0.0.1 allowed by name, as an admin would."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return http_server


@pytest.fixture
def endpoint(receiver, admin_user):
    endpoint, _ = endpoint_create(
        actor=admin_user,
        url=f"{receiver.url}/hooks?team=support",
        event_types=["message.created", "conversation.updated"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    return endpoint


@pytest.fixture
def conversation(team):
    return ConversationFactory(team=team)


@pytest.fixture
def note(conversation, agent, django_capture_on_commit_callbacks):
    """Add a note (a message.created event) and run everything that follows the commit."""

    def add(text="Customer called back"):
        with django_capture_on_commit_callbacks(execute=True):
            return add_note(conversation_id=conversation.pk, actor=agent, text=text)

    return add
