"""Spam and blocked contacts in the agents' pages (issue 21): the "Mark as spam" and "Not spam"
buttons, the Spam view, and the contact page's Block/Unblock control with what was held."""

import re

import pytest
from django.test import Client

from inbox.models import Contact, Conversation
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-conversation="(\d+)"', html)}


@pytest.fixture
def channel(team):
    return ChannelFactory(default_team=team)


def test_mark_as_spam_moves_it_to_the_spam_view_and_not_spam_brings_it_back(agent, channel):
    conversation = ConversationFactory(channel=channel, subject="Cheap pills")
    client = browser_for(agent)
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert ">Mark as spam</button>" in page and ">Not spam</button>" not in page

    response = client.post(
        f"/inbox/conversations/{conversation.pk}/status/", {"status": "spam"}, follow=True
    )
    assert response.status_code == 200
    assert "Marked as spam" in response.content.decode()
    assert conversation.pk not in rows(client.get("/inbox/").content.decode())
    assert conversation.pk not in rows(client.get("/inbox/?status=any&q=pills").content.decode())
    spam_view = client.get("/inbox/?status=spam").content.decode()
    assert conversation.pk in rows(spam_view)
    sidebar = client.get("/inbox/sidebar/").content.decode()
    assert re.search(r"<span>Spam</span>\s*<span class=\"count[^\"]*\"[^>]*>1<", sidebar)
    assert Contact.objects.get(pk=conversation.contact_id).spam

    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert ">Not spam</button>" in page and ">Mark as spam</button>" not in page
    response = client.post(
        f"/inbox/conversations/{conversation.pk}/status/", {"status": "open"}, follow=True
    )
    assert "Marked not spam" in response.content.decode()
    assert conversation.pk in rows(client.get("/inbox/").content.decode())
    assert not Contact.objects.get(pk=conversation.contact_id).spam


def test_a_lead_blocks_and_unblocks_from_the_contact_page_and_sees_what_was_held(lead, channel):
    conversation = ConversationFactory(channel=channel)
    contact = conversation.contact
    held = ConversationFactory(channel=channel, contact=contact, status="blocked")
    MessageFactory(conversation=held, text="Held back: cheap pills")
    client = browser_for(lead)
    page = client.get(f"/inbox/contacts/{contact.pk}/").content.decode()
    assert ">Block</button>" in page
    assert "Held back: cheap pills" in page and "Messages received while blocked" in page

    response = client.post(f"/inbox/contacts/{contact.pk}/block/", {"action": "block"}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Blocked since" in page and ">Unblock</button>" in page
    assert Contact.objects.get(pk=contact.pk).blocked_by == lead
    # The inbox lists the contact's open conversation, never the held one.
    assert rows(browser_for(lead).get("/inbox/").content.decode()) == {conversation.pk}

    response = client.post(
        f"/inbox/contacts/{contact.pk}/block/", {"action": "unblock"}, follow=True
    )
    assert ">Block</button>" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).blocked_at is None


def test_an_agent_sees_no_block_control_and_is_refused_in_words(agent, channel):
    conversation = ConversationFactory(channel=channel)
    client = browser_for(agent)
    page = client.get(f"/inbox/contacts/{conversation.contact_id}/").content.decode()
    assert ">Block</button>" not in page
    response = client.post(f"/inbox/contacts/{conversation.contact_id}/block/", {"action": "block"})
    assert response.status_code == 403 and b"admins and leads" in response.content
    assert Contact.objects.get(pk=conversation.contact_id).blocked_at is None


def test_a_held_conversation_refuses_a_status_change_in_words(admin_user, channel):
    held = ConversationFactory(channel=channel, status="blocked")
    client = browser_for(admin_user)
    response = client.post(
        f"/inbox/conversations/{held.pk}/status/", {"status": "open"}, follow=True
    )
    assert "unblock the contact instead" in response.content.decode()
    assert Conversation.objects.get(pk=held.pk).status == "blocked"


def test_the_automated_view_lists_automated_mail_and_reopen_brings_it_to_the_inbox(agent, channel):
    digest = ConversationFactory(channel=channel, subject="Weekly digest", status="automated")
    client = browser_for(agent)
    assert digest.pk not in rows(client.get("/inbox/").content.decode())
    assert digest.pk in rows(client.get("/inbox/?status=automated").content.decode())
    sidebar = client.get("/inbox/sidebar/").content.decode()
    assert re.search(r"<span>Automated</span>\s*<span class=\"count[^\"]*\"[^>]*>1<", sidebar)
    client.post(f"/inbox/conversations/{digest.pk}/status/", {"status": "open"})
    assert digest.pk in rows(client.get("/inbox/").content.decode())
