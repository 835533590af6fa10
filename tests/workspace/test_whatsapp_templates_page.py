"""The composer when WhatsApp's 24-hour window is closed: instead of a dead end it offers the
channel's templates (a select named "Template", parameter fields, a preview); the form sends one
through the same service as the API, and the thread shows the rendered text."""

import pytest
from django.test import Client

from inbox.models import Message
from tests.inbox.outbound.test_whatsapp_templates import (  # noqa: F401
    channel,
    closed,
    graph_answers,
)

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_closed_window_offers_the_templates(closed, agent):  # noqa: F811
    page = signed_in(agent).get(f"/inbox/conversations/{closed.pk}/").content.decode()
    assert "You cannot reply here right now" in page
    assert '<label for="template-select">Template</label>' in page
    assert '<option value="order_update|en_US">order_update (en_US) · utility</option>' in page
    assert 'name="p:order_update|en_US" data-parameter="1"' in page
    assert 'data-body="Hello {{1}}, your order {{2}} has shipped."' in page
    assert '<output id="template-preview"' in page


def test_an_open_window_or_a_viewer_gets_no_template_form(closed, agent, viewer):  # noqa: F811
    from django.utils import timezone

    assert (
        'id="template-form"'
        not in signed_in(viewer).get(f"/inbox/conversations/{closed.pk}/").content.decode()
    )
    closed.last_inbound_at = timezone.now()
    closed.save(update_fields=["last_inbound_at"])
    page = signed_in(agent).get(f"/inbox/conversations/{closed.pk}/").content.decode()
    assert 'id="template-form"' not in page


def test_the_form_sends_the_template_and_the_thread_shows_its_text(
    closed,  # noqa: F811
    agent,
    http_server,
    django_capture_on_commit_callbacks,
):
    graph_answers(http_server)
    http_server.respond(200, {"messages": [{"id": "wamid.page-1"}]})
    client = signed_in(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/inbox/conversations/{closed.pk}/template/",
            {"template": "order_update|en_US", "p:order_update|en_US": ["Dana", "A-7"]},
        )
    assert response.status_code == 302
    message = Message.objects.get(direction="out")
    assert (message.delivery_status, message.external_id) == ("sent", "wamid.page-1")
    assert http_server.requests[-1].json()["template"]["name"] == "order_update"
    page = client.get(response["Location"]).content.decode()
    assert "Template queued for sending." in page
    assert "Hello Dana, your order A-7 has shipped." in page
    assert "WhatsApp template order_update (en_US)" in page


def test_a_wrong_form_is_refused_in_words_and_sends_nothing(closed, agent, http_server):  # noqa: F811
    client = signed_in(agent)
    response = client.post(
        f"/inbox/conversations/{closed.pk}/template/",
        {"template": "order_update|en_US", "p:order_update|en_US": ["Dana"]},
        follow=True,
    )
    assert "Not sent: The template order_update (en_US) takes 2 parameter(s)" in (
        response.content.decode()
    )
    response = client.post(
        f"/inbox/conversations/{closed.pk}/template/", {"template": "ghost|en_US"}, follow=True
    )
    assert "Not sent: No approved template ghost in en_US" in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()
    assert not [r for r in http_server.requests if r.method == "POST"]
