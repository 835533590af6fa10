"""A contact learns its language at intake when the provider or the visitor's browser says it:
Telegram's language_code, the chat widget's language or Accept-Language. Only languages we
serve are kept, and a known one is never overwritten."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from inbox.chat import service as chat
from inbox.intake.receive import receive_message
from inbox.models import Contact, Message
from inbox.normalized import NormalizedMessage, SenderRef
from tests.inbox.factories import ChannelFactory, ContactFactory, ContactIdentityFactory

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example.com"


def telegram_message(channel, n, language):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind="telegram",
            external_id=f"tg-{n}",
            thread_key=None,
            sender=SenderRef(kind="telegram", id="777", name="Budi", language=language),
            text="Halo, pesanan saya belum sampai",
            html=None,
            attachments=(),
            sent_at=timezone.now(),
        ),
    )


def test_a_telegram_users_language_code_becomes_the_contacts_language(team):
    channel = ChannelFactory(kind="telegram", slug="tg", default_team=team)
    received = telegram_message(channel, 1, "id")
    assert received.conversation.contact.attributes == {"language": "id"}


def test_a_language_we_do_not_serve_is_not_kept(team):
    channel = ChannelFactory(kind="telegram", slug="tg", default_team=team)
    received = telegram_message(channel, 1, "it")
    assert "language" not in received.conversation.contact.attributes


def test_a_known_contact_learns_its_language_once_and_keeps_it(team):
    channel = ChannelFactory(kind="telegram", slug="tg", default_team=team)
    contact = ContactFactory(name="Budi", attributes={"vip": True})
    ContactIdentityFactory(contact=contact, kind="telegram", external_id="777")
    telegram_message(channel, 1, "id-ID")
    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "language": "id"}
    telegram_message(channel, 2, "en")
    contact.refresh_from_db()
    assert contact.attributes["language"] == "id"


def chat_channel(team):
    return ChannelFactory(
        kind="chat", slug="chat", default_team=team, config={"allowed_origins": [SHOP]}
    )


def visitor_contact(token: str, channel) -> Contact:
    session = chat.read_token(channel, token)
    chat.post_visitor_message(session=session, text="Apakah ada ukuran M?")
    return Message.objects.get(direction="in").conversation.contact


def test_the_chat_visitors_browser_language_becomes_the_contacts_language(team):
    channel = chat_channel(team)
    browser = Client(headers={"Origin": SHOP, "Accept-Language": "de-DE,id;q=0.8,en;q=0.5"})
    response = browser.post(
        f"/chat/{channel.public_key}/session/", json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert visitor_contact(response.json()["token"], channel).attributes == {"language": "id"}


def test_the_widgets_own_choice_wins_over_accept_language(team):
    channel = chat_channel(team)
    browser = Client(headers={"Origin": SHOP, "Accept-Language": "en"})
    response = browser.post(
        f"/chat/{channel.public_key}/session/",
        json.dumps({"language": "id"}),
        content_type="application/json",
    )
    assert visitor_contact(response.json()["token"], channel).attributes == {"language": "id"}


def test_a_visitor_whose_browser_names_no_language_we_serve_stays_unknown(team):
    channel = chat_channel(team)
    browser = Client(headers={"Origin": SHOP, "Accept-Language": "fr-FR,fr;q=0.9"})
    response = browser.post(
        f"/chat/{channel.public_key}/session/", json.dumps({}), content_type="application/json"
    )
    assert visitor_contact(response.json()["token"], channel).attributes == {}


@pytest.mark.parametrize(
    "accept, channel_language, spoken",
    [
        ("fr-FR,fr;q=0.9", "id", "id"),  # a browser with none of ours: the channel's language
        ("id-ID,id;q=0.9", "en", "id"),  # the visitor's browser wins over the channel's
        ("fr-FR,fr;q=0.9", "", ""),  # neither: the widget stays in English
    ],
)
def test_the_widget_is_told_the_language_to_speak(team, accept, channel_language, spoken):
    channel = chat_channel(team)
    if channel_language:
        channel.config = {**channel.config, "language": channel_language}
        channel.save(update_fields=["config"])
    browser = Client(headers={"Origin": SHOP, "Accept-Language": accept})
    response = browser.post(
        f"/chat/{channel.public_key}/session/", json.dumps({}), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["language"] == spoken
