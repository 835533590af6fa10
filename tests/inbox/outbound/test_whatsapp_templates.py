"""WhatsApp templates after the 24-hour window: listed from the channel's config and the Graph API
(GET /{waba-id}/message_templates, cached), validated, sent as "type": "template" to the Cloud
API, the rendered text stored as the message. Meta is played by a local HTTP server."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.errors import ActionRefused
from inbox.models import Message
from inbox.outbound import whatsapp_templates
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.adapters.test_meta import MESSENGER_BATCH, SECRET, fixture
from tests.inbox.social import post_meta, provider_client

pytestmark = pytest.mark.django_db

CONFIG_TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "header": "Acme orders",
    "body": "Hello {{1}}, your order {{2}} has shipped.",
    "footer": "Reply STOP to opt out",
    "category": "UTILITY",
}
GRAPH_TEMPLATES = {
    "data": [
        {
            "name": "follow_up",
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "id": "111",
            "components": [
                {"type": "BODY", "text": "Hi {{customer}}, is your ticket {{ticket}} solved?"},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}]},
            ],
        },
        {
            "name": "order_update",  # the config's entry of this name and language wins
            "language": "en_US",
            "status": "APPROVED",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Graph text {{1}}"}],
        },
        {
            "name": "promo",
            "language": "en_US",
            "status": "REJECTED",
            "components": [{"type": "BODY", "text": "Buy now"}],
        },
        {
            "name": "invoice",
            "language": "en_US",
            "status": "APPROVED",
            "components": [
                {"type": "HEADER", "format": "DOCUMENT"},
                {"type": "BODY", "text": "Your invoice"},
            ],
        },
    ],
    "paging": {
        "cursors": {"before": "B1", "after": "A1"},
        "next": "https://graph.facebook.com/v21.0/WABA-1/message_templates?after=A1",
    },
}
GRAPH_PAGE_2 = {
    "data": [
        {
            "name": "hello_world",
            "language": "de",
            "status": "APPROVED",
            "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Hallo!"}],
        }
    ],
    "paging": {"cursors": {"before": "A1", "after": "A2"}},
}


@pytest.fixture
def channel(team, http_server, settings):
    settings.META_GRAPH_BASE_URL = http_server.url
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    channel = ChannelFactory(
        slug="meta",
        kind="meta",
        secret=SECRET,
        default_team=team,
        config={
            "verify_token": "let-me-in",
            "access_token": "EAAG-token",
            "waba_id": "WABA-1",
            "whatsapp_templates": [CONFIG_TEMPLATE],
        },
    )
    cache.delete(whatsapp_templates._cache_key(channel))
    yield channel
    cache.delete(whatsapp_templates._cache_key(channel))


@pytest.fixture
def closed(channel, django_capture_on_commit_callbacks):
    """A WhatsApp conversation whose customer last wrote 25 hours ago, resolved since."""
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", fixture("SH-W-009", "text"), secret=SECRET)
    conversation = Message.objects.get(external_id="wamid.xyzxyz").conversation
    conversation.last_inbound_at = timezone.now() - dt.timedelta(hours=25)
    conversation.status = "resolved"
    conversation.resolved_at = timezone.now() - dt.timedelta(hours=20)
    conversation.save(update_fields=["last_inbound_at", "status", "resolved_at"])
    return conversation


def graph_answers(http_server):
    http_server.respond(200, GRAPH_TEMPLATES)
    http_server.respond(200, GRAPH_PAGE_2)


def test_the_list_merges_the_config_and_metas_approved_templates_and_is_cached(
    closed, agent, client_for, http_server
):
    graph_answers(http_server)
    client = client_for(agent)

    answer = client.get(f"/api/v1/conversations/{closed.pk}/templates/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["available"] is True and body["window_open"] is False
    assert body["error"] == ""
    listed = {(t["name"], t["language"]): t for t in body["templates"]}
    assert sorted(listed) == [
        ("follow_up", "en_US"),
        ("hello_world", "de"),
        ("order_update", "en_US"),
    ]
    assert listed[("order_update", "en_US")]["source"] == "config"
    assert listed[("order_update", "en_US")]["parameters"] == ["1", "2"]
    assert listed[("follow_up", "en_US")]["parameters"] == ["customer", "ticket"]
    assert body["unsupported"] == [
        {"name": "invoice", "language": "en_US", "reason": "has a media header"}
    ]
    first, second = http_server.requests
    assert first.method == "GET"
    assert first.path.startswith("/v21.0/WABA-1/message_templates?")
    assert "fields=name%2Clanguage%2Cstatus%2Ccategory%2Ccomponents" in first.path
    assert first.headers["authorization"] == "Bearer EAAG-token"
    assert "after=A1" in second.path
    # Cached: a second look does not ask Meta again; ?refresh=1 does.
    assert client.get(f"/api/v1/conversations/{closed.pk}/templates/").json() == body
    assert len(http_server.requests) == 2
    graph_answers(http_server)
    client.get(f"/api/v1/conversations/{closed.pk}/templates/?refresh=1")
    assert len(http_server.requests) == 4


def test_a_failed_fetch_still_offers_the_configs_templates_and_says_why(
    closed, agent, client_for, http_server
):
    http_server.respond(
        400, {"error": {"message": "(#100) Tried accessing nonexisting field", "code": 100}}
    )
    body = client_for(agent).get(f"/api/v1/conversations/{closed.pk}/templates/").json()
    assert [t["name"] for t in body["templates"]] == ["order_update"]
    assert "Meta answered 400: (#100) Tried accessing nonexisting field" in body["error"]


def test_outside_the_window_a_template_goes_out_and_reopens_the_conversation(
    closed, agent, client_for, http_server, django_capture_on_commit_callbacks
):
    with pytest.raises(ActionRefused, match="window is closed"):
        send_reply(conversation_id=closed.pk, actor=agent, text="Free text is refused")
    graph_answers(http_server)
    http_server.respond(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.T1"}]})

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(
            f"/api/v1/conversations/{closed.pk}/messages/",
            {
                "template": {
                    "name": "order_update",
                    "language": "en_US",
                    "parameters": ["Dana", "A-1042"],
                }
            },
            format="json",
        )

    assert response.status_code == 201, response.content
    shown = response.json()
    rendered = "Acme orders\n\nHello Dana, your order A-1042 has shipped.\n\nReply STOP to opt out"
    assert shown["text"] == rendered
    assert shown["template"] == {
        "name": "order_update",
        "language": "en_US",
        "parameters": ["Dana", "A-1042"],
        "parameter_names": [],
    }
    sent = http_server.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/v21.0/1122334455667/messages")
    assert sent.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "972987654321",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Dana"},
                        {"type": "text", "text": "A-1042"},
                    ],
                }
            ],
        },
    }
    message = Message.objects.get(pk=shown["id"])
    assert (message.delivery_status, message.external_id) == ("sent", "wamid.T1")
    closed.refresh_from_db()
    assert closed.status == "open" and closed.reopened_count == 1
    assert closed.last_outbound_at == message.created_at
    thread = client_for(agent).get(f"/api/v1/conversations/{closed.pk}/messages/").json()
    assert thread[-1]["text"] == rendered


def test_named_parameters_go_by_name(
    closed, agent, client_for, http_server, django_capture_on_commit_callbacks
):
    graph_answers(http_server)
    http_server.respond(200, {"messages": [{"id": "wamid.T2"}]})
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(
            f"/api/v1/conversations/{closed.pk}/messages/",
            {"template": {"name": "follow_up", "language": "en_US", "parameters": ["Dana", "7"]}},
            format="json",
        )
    assert response.status_code == 201
    assert response.json()["text"] == "Hi Dana, is your ticket 7 solved?"
    assert http_server.requests[-1].json()["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Dana", "parameter_name": "customer"},
        {"type": "text", "text": "7", "parameter_name": "ticket"},
    ]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        (
            {"name": "nope", "language": "en_US", "parameters": []},
            "No approved template nope in en_US on this channel; it has: follow_up (en_US), "
            "hello_world (de), order_update (en_US).",
        ),
        (
            {"name": "order_update", "language": "de", "parameters": ["a", "b"]},
            "No approved template order_update in de",
        ),
        (
            {"name": "order_update", "language": "en_US", "parameters": ["Dana"]},
            "The template order_update (en_US) takes 2 parameter(s) ({{1}}, {{2}}); 1 given.",
        ),
        (
            {"name": "order_update", "language": "en_US", "parameters": ["Dana", "  "]},
            "Parameter {{2}} is empty",
        ),
        (
            {"name": "order_update", "language": "en_US", "parameters": ["Da\nna", "1"]},
            "may not hold line breaks",
        ),
    ],
)
def test_an_unknown_template_or_wrong_parameters_is_a_400_in_words(
    closed, agent, client_for, http_server, template, words
):
    graph_answers(http_server)
    response = client_for(agent).post(
        f"/api/v1/conversations/{closed.pk}/messages/", {"template": template}, format="json"
    )
    assert response.status_code == 400
    assert words in str(response.json())
    assert not Message.objects.filter(direction="out").exists()
    assert not [r for r in http_server.requests if r.method == "POST"]


def test_text_with_a_template_or_a_template_note_is_refused(closed, agent, client_for):
    url = f"/api/v1/conversations/{closed.pk}/messages/"
    template = {"name": "order_update", "language": "en_US", "parameters": ["a", "b"]}
    both = client_for(agent).post(url, {"text": "hi", "template": template}, format="json")
    assert both.status_code == 400 and "either text or a template" in both.json()["text"][0]
    note = client_for(agent).post(url, {"kind": "note", "template": template}, format="json")
    assert note.status_code == 400 and "not a note" in note.json()["kind"][0]
    missing = client_for(agent).post(url, {"template": {"name": "x"}}, format="json")
    assert missing.status_code == 400 and "language" in missing.json()["template"]


def test_plain_replies_keep_their_shape(closed, agent, client_for):
    response = client_for(agent).post(
        f"/api/v1/conversations/{closed.pk}/messages/", {"kind": "note", "text": "hi"}
    )
    assert response.status_code == 201 and response.json()["template"] is None


def test_templates_are_for_whatsapp_only(
    channel, agent, client_for, http_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", MESSENGER_BATCH, secret=SECRET)
    conversation = Message.objects.get(external_id="m_text").conversation
    listed = client_for(agent).get(f"/api/v1/conversations/{conversation.pk}/templates/").json()
    assert listed["available"] is False and listed["templates"] == []
    assert "WhatsApp conversations only" in listed["reason"]
    response = client_for(agent).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"template": {"name": "order_update", "language": "en_US", "parameters": ["a", "b"]}},
        format="json",
    )
    assert response.status_code == 400
    assert "WhatsApp conversations only" in response.json()["template"][0]
    assert not http_server.requests


def test_a_viewer_cannot_send_a_template(closed, viewer, client_for):
    response = client_for(viewer).post(
        f"/api/v1/conversations/{closed.pk}/messages/",
        {"template": {"name": "order_update", "language": "en_US", "parameters": ["a", "b"]}},
        format="json",
    )
    assert response.status_code in (403, 404)
    assert not Message.objects.filter(direction="out").exists()


def test_without_a_waba_id_only_the_configs_templates_and_no_call(closed, http_server):
    channel = closed.channel
    channel.config = {k: v for k, v in channel.config.items() if k != "waba_id"}
    channel.save(update_fields=["config"])
    catalog = whatsapp_templates.catalog(channel)
    assert [(t.name, t.source) for t in catalog.templates] == [("order_update", "config")]
    assert catalog.error == "" and not http_server.requests


def test_an_unreachable_graph_api_is_an_error_in_words_not_a_crash(closed, settings):
    settings.META_GRAPH_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    catalog = whatsapp_templates.catalog(closed.channel, refresh=True)
    assert [t.name for t in catalog.templates] == ["order_update"]
    assert catalog.error
