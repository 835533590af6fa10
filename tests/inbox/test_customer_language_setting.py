"""A channel's customers' language: set on its settings page (and the API's config), the
fallback for the product's own words to a customer whose language is not known; the survey and
the UGC question follow it too."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from inbox import channel_settings
from inbox import languages as customer_languages
from inbox.models import Channel
from reports.surveys import survey_language
from tagging.ugc import permission_request_text
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def test_the_channel_page_sets_and_clears_the_customers_language(admin_user, team):
    channel = ChannelFactory(kind="chat", slug="web", default_team=team, config={})
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
    assert 'name="language"' in page and ">Bahasa Indonesia</option>" in page
    browser.post(f"/inbox/settings/channels/{channel.pk}/", {"name": "Web", "language": "id"})
    channel.refresh_from_db()
    assert channel.config["language"] == "id"
    assert customer_languages.for_customer(ContactFactory(), channel) == "id"
    browser.post(f"/inbox/settings/channels/{channel.pk}/", {"name": "Web", "language": ""})
    channel.refresh_from_db()
    assert "language" not in channel.config


def test_a_language_we_do_not_serve_is_refused_with_the_field_named(admin_user, team):
    channel = ChannelFactory(kind="chat", slug="web2", default_team=team, config={})
    with pytest.raises(ValidationError) as refused:
        channel_settings.update_channel(
            actor=admin_user, channel=channel, values={"language": "fr"}
        )
    assert "language" in refused.value.message_dict
    assert "language" not in Channel.objects.get(pk=channel.pk).config


def test_the_survey_falls_back_on_the_channels_language():
    channel = ChannelFactory(config={"language": "id"})
    assert survey_language(ContactFactory(), {}, channel) == "id"
    assert survey_language(ContactFactory(attributes={"language": "en"}), {}, channel) == "en"
    assert survey_language(ContactFactory(), {}, ChannelFactory(config={})) == ""


def test_the_ugc_question_is_asked_in_the_contacts_language():
    indonesian = ConversationFactory(contact=ContactFactory(name="Dewi Lestari"))
    indonesian.contact.attributes = {"language": "id"}
    assert permission_request_text(indonesian).startswith("Halo Dewi, kami suka sekali")
    assert "Balas YA untuk setuju" in permission_request_text(indonesian)
    english = ConversationFactory(contact=ContactFactory(name="Sam Hill"))
    assert permission_request_text(english).startswith("Hi Sam, we love what you shared")
