"""Server-side request forgery through the generic API channel's `callback_url`: the server POSTs
every agent reply there, so whoever sets up the channel could aim it at an internal service.
It goes through the same guard as outbound webhooks (core.safe_http): refused at save time,
refused again at send time (the name may have been rebound), redirects never followed. The
`listener` is the internal service and must receive nothing. Tests opt in to loopback only
through WEBHOOK_ALLOWED_HOSTS, as an operator would."""

import pytest
from django.core.exceptions import ValidationError

from inbox.models import Message
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory, ContactIdentityFactory, ConversationFactory
from tests.support.http import LocalHTTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    with LocalHTTPServer() as server:
        yield server


def internal_urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/cb",
        f"http://localhost:{port}/cb",
        f"http://[::1]:{port}/cb",
        f"http://[::ffff:127.0.0.1]:{port}/cb",  # IPv4-mapped IPv6
        f"http://0.0.0.0:{port}/cb",
        f"http://2130706433:{port}/cb",  # 127.0.0.1 as one decimal number
        "http://10.1.2.3/cb",
        "http://192.168.0.10/cb",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[fd00::1]/cb",
        "http://crm.internal.test/cb",  # a name that resolves to a private address
        # IPv6 forms that carry an internal IPv4 address:
        f"http://[64:ff9b::7f00:1]:{port}/cb",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of the metadata address
        f"http://[2002:7f00:1::1]:{port}/cb",  # 6to4 of 127.0.0.1
        f"http://[::127.0.0.1]:{port}/cb",  # IPv4-compatible
        "http://[::ffff:0:a01:203]/cb",  # IPv4-translated (SIIT) 10.1.2.3
        "http://192.88.99.1/cb",  # the 6to4 relay anycast
        "http://crm6.internal.test/cb",  # a name whose AAAA is NAT64 of a private address
    ]


DNS = {"crm.internal.test": ["10.9.8.7"], "crm6.internal.test": ["64:ff9b::a09:807"]}


def api_conversation(team, url):
    channel = ChannelFactory(kind="api", default_team=team, config={"callback_url": url})
    conversation = ConversationFactory(channel=channel, team=team)
    ContactIdentityFactory(contact=conversation.contact, kind="api", external_id="crm-1")
    return conversation


def reply(conversation, agent, capture):
    with capture(execute=True):
        message = send_reply(conversation_id=conversation.pk, actor=agent, text="Your quote")
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("index", range(len(internal_urls(0))))
def test_an_internal_callback_url_is_refused_when_the_channel_is_saved(listener, settings, index):
    settings.WEBHOOK_DNS_OVERRIDES = DNS
    url = internal_urls(listener.httpd.server_address[1])[index]
    channel = ChannelFactory.build(kind="api", slug="partner", config={"callback_url": url})
    with pytest.raises(ValidationError) as refused:
        channel.full_clean(exclude=["default_team"])
    assert "callback_url" in str(refused.value) and "internal address" in str(refused.value)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://example.com/x"]
)
def test_a_callback_url_must_be_http_or_https(url):
    channel = ChannelFactory.build(kind="api", slug="partner", config={"callback_url": url})
    with pytest.raises(ValidationError, match="Only http and https"):
        channel.full_clean(exclude=["default_team"])


@pytest.mark.parametrize("index", range(len(internal_urls(0))))
def test_a_reply_on_a_channel_aimed_inward_is_never_sent_there(
    listener, team, agent, settings, django_capture_on_commit_callbacks, index
):
    # Stored before the guard existed (or written straight to the database): the sender checks.
    settings.WEBHOOK_DNS_OVERRIDES = DNS
    conversation = api_conversation(team, internal_urls(listener.httpd.server_address[1])[index])
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert message.delivery_status == Message.DeliveryStatus.FAILED
    assert "internal address" in message.delivery_error or "Only http" in message.delivery_error
    assert listener.requests == []


@pytest.mark.parametrize("rebound", ["127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::1"])
def test_a_name_rebound_inward_after_saving_is_refused_at_send_time(
    listener, team, agent, settings, django_capture_on_commit_callbacks, rebound
):
    port = listener.httpd.server_address[1]
    settings.WEBHOOK_DNS_OVERRIDES = {"crm.partner.test": ["93.184.216.34"]}
    channel = ChannelFactory.build(
        kind="api", slug="partner", config={"callback_url": f"http://crm.partner.test:{port}/cb"}
    )
    channel.full_clean(exclude=["default_team"])  # public when saved
    settings.WEBHOOK_DNS_OVERRIDES = {"crm.partner.test": [rebound]}  # DNS rebinding
    conversation = api_conversation(team, channel.config["callback_url"])
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert message.delivery_status == Message.DeliveryStatus.FAILED
    assert "internal address" in message.delivery_error
    assert listener.requests == []


def test_a_callback_that_redirects_inward_is_not_followed(
    http_server, listener, team, agent, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["crm.partner.test"]  # the partner is allowed by name
    settings.WEBHOOK_DNS_OVERRIDES = {"crm.partner.test": ["127.0.0.1"]}
    http_server.respond(307, headers={"Location": f"{listener.url}/admin"})
    port = http_server.httpd.server_address[1]
    conversation = api_conversation(team, f"http://crm.partner.test:{port}/cb")
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert len(http_server.requests) == 1
    assert message.delivery_status == Message.DeliveryStatus.FAILED
    assert "307" in message.delivery_error
    assert listener.requests == []


def test_an_allowed_local_receiver_gets_the_signed_reply(
    http_server, team, agent, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the deliberate opt-in
    conversation = api_conversation(team, f"{http_server.url}/cb")
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert message.delivery_status == Message.DeliveryStatus.SENT
    [request] = http_server.requests
    assert request.json()["text"] == "Your quote" and "x-signature" in request.headers
