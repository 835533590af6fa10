"""The product view (issue 22, leads and the product team): its heading names the tag chosen, and
a reversed date range is refused with words in the page, and with a 400 naming the field in each
API that takes the range."""

import pytest
from django.test import Client

from tagging.models import ConversationTag, Tag
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def heading(body: str) -> str:
    return body.split("<h1>")[1].split("</h1>")[0]


def test_the_heading_follows_the_chosen_tag(viewer, team):
    incident = Tag.objects.create(slug="outage", name="Outages")
    conversation = ConversationFactory(team=team, channel=ChannelFactory(default_team=team))
    ConversationTag.objects.create(conversation=conversation, tag=incident)
    page = browser_for(viewer).get("/inbox/product/", {"tag": "outage"})
    assert page.status_code == 200
    assert heading(page.content.decode()) == "Outages"
    default = browser_for(viewer).get("/inbox/product/")
    assert heading(default.content.decode()) == Tag.objects.get(slug="feature-request").name


def test_a_reversed_date_range_is_refused_in_words(viewer):
    page = browser_for(viewer).get(
        "/inbox/product/", {"created_after": "2026-11-20", "created_before": "2026-11-10"}
    )
    assert page.status_code == 400
    body = page.content.decode()
    assert 'role="alert"' in body and "the dates are reversed" in body
    fine = browser_for(viewer).get(
        "/inbox/product/", {"created_after": "2026-11-10", "created_before": "2026-11-20"}
    )
    assert fine.status_code == 200 and "reversed" not in fine.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/conversations/",
        "/api/v1/conversations/export.csv",
        "/api/v1/feature-requests/",
        "/api/v1/feature-requests/export.csv",
    ],
)
def test_apis_taking_the_range_refuse_it_reversed_with_a_json_400(client_for, viewer, url):
    client = client_for(viewer)
    response = client.get(
        url, {"created_after": "2026-11-20T00:00:00Z", "created_before": "2026-11-10T00:00:00Z"}
    )
    assert response.status_code == 400
    assert "reversed" in response.json()["created_before"][0]
    ok = client.get(
        url, {"created_after": "2026-11-10T00:00:00Z", "created_before": "2026-11-20T00:00:00Z"}
    )
    assert ok.status_code == 200
