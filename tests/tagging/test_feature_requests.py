"""The feature-request board (issue 24, part 2): paraphrases and repeats of one request are one
group, counted by distinct customers, with first and last seen, weekly counts and channels."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from inbox.intake.adapters.api import sign
from inbox.models import Conversation, Message
from tagging.feature_requests import group_texts
from tests.inbox.factories import ChannelFactory
from tests.tagging.factories import TagFactory

SECRET = "board-secret"
BOARD = "/api/v1/feature-requests/"


@pytest.fixture
def board(agent, client, django_capture_on_commit_callbacks):
    """Customers write to two API channels; an agent tags what they ask as a feature request."""
    team = agent.teams.first()
    channels = {
        slug: ChannelFactory(slug=slug, kind="api", secret=SECRET, default_team=team)
        for slug in ("partner", "webchat-api")
    }
    tagger = APIClient()
    tagger.force_authenticate(agent)
    TagFactory(slug="feature-request", name="Feature request")
    sent = []

    def ask(customer: str, text: str, *, channel="partner", tag=True, at=None) -> Conversation:
        n = len(sent) + 1
        sent.append(text)
        body = json.dumps(
            {
                "id": f"fr-{n}",
                "sender": {"id": customer, "name": customer.title()},
                "text": text,
                "thread": f"thread-{n}",
            }
        ).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/webhooks/api/{channel}/",
                data=body,
                content_type="application/json",
                HTTP_X_SIGNATURE=sign(SECRET, body),
            )
        assert response.status_code == 202
        conversation = Conversation.objects.get(messages__external_id=f"fr-{n}")
        if at is not None:
            Conversation.objects.filter(pk=conversation.pk).update(created_at=at)
        if tag:
            tagged = tagger.post(
                f"/api/v1/conversations/{conversation.pk}/tags/",
                {"tags": ["feature-request"]},
                format="json",
            )
            assert tagged.status_code == 200
        return conversation

    ask.channels = channels
    return ask


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def by_title(groups: list[dict]) -> dict[str, dict]:
    return {g["title"]: g for g in groups}


@pytest.mark.django_db
def test_paraphrases_and_repeats_are_one_request_counted_by_distinct_customers(board, api):
    monday = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)
    first = board("ann", "Export to PDF would be great", at=monday)
    board("ann", "please add PDF export", at=monday + dt.timedelta(days=1))
    board("ann", "Still waiting for PDF export!", at=monday + dt.timedelta(days=8))
    board("bob", "Could you add exporting reports to PDF?", channel="webchat-api",
          at=monday + dt.timedelta(days=9))  # fmt: skip
    board("cid", "Dark mode please", at=monday + dt.timedelta(days=2))
    board("dee", "I would love a dark mode for the app", at=monday + dt.timedelta(days=3))
    board("eve", "Export to CSV please", at=monday + dt.timedelta(days=4))
    board("fay", "Export to PDF please", tag=False)  # not tagged: not on the board

    response = api.get(BOARD)
    assert response.status_code == 200
    groups = response.json()
    assert [(g["title"], g["customers"], g["conversations"]) for g in groups] == [
        ("Export to PDF would be great", 2, 4),
        ("Dark mode please", 2, 2),
        ("Export to CSV please", 1, 1),
    ]
    pdf = groups[0]
    assert pdf["key"] == first.pk
    assert pdf["first_seen"] == "2026-11-30T09:00:00Z"
    assert pdf["last_seen"] == "2026-12-09T09:00:00Z"
    assert pdf["channels"] == ["partner", "webchat-api"]
    assert pdf["weekly"] == [
        {"week": "2026-11-30", "conversations": 2},
        {"week": "2026-12-07", "conversations": 2},
    ]
    assert len(pdf["conversation_ids"]) == 4


@pytest.mark.django_db
def test_the_threshold_is_adjustable(board, api):
    board("ann", "Export to PDF would be great")
    board("bob", "I need to export my invoices as PDF files")
    assert [g["conversations"] for g in api.get(BOARD).json()] == [2]
    tighter = api.get(BOARD, {"threshold": "0.6"}).json()
    assert sorted(g["conversations"] for g in tighter) == [1, 1]


@pytest.mark.django_db
def test_filters_and_bad_parameters(board, api):
    board("ann", "Dark mode please", channel="partner")
    board("bob", "Dark mode for the app", channel="webchat-api")
    [only] = api.get(BOARD, {"channel": "webchat-api"}).json()
    assert (only["customers"], only["channels"]) == (1, ["webchat-api"])
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert api.get(BOARD, {"created_after": later}).json() == []

    bad = api.get(BOARD, {"threshold": "2"})
    assert bad.status_code == 400
    assert "threshold" in bad.json()
    unknown = api.get(BOARD, {"tag": "x"})
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": ["Unknown parameters: tag."]}
    assert APIClient().get(BOARD).status_code in (401, 403)


@pytest.mark.django_db
def test_a_viewer_sees_the_board_and_an_agent_only_their_teams(board, viewer, other_team):
    board("ann", "Dark mode please")
    reader = APIClient()
    reader.force_authenticate(viewer)
    assert [g["customers"] for g in reader.get(BOARD).json()] == [1]
    from tests.accounts.factories import AgentFactory

    outsider = APIClient()
    outsider.force_authenticate(AgentFactory(teams=[other_team]))
    assert outsider.get(BOARD).json() == []


def test_grouping_keeps_unrelated_requests_apart():
    texts = [
        "Export to PDF would be great",
        "please add PDF export",
        "Integration with Slack",
        "please integrate with slack so we get notified",
        "Two-factor authentication",
        "please support 2FA / two factor auth",
        "Android app please",
        "a mobile app for android",
        "Thanks!",
    ]
    groups = group_texts(texts, threshold=0.4)
    assert sorted(groups) == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    assert group_texts([], threshold=0.4) == []
    assert group_texts(["please"], threshold=0.4) == [[0]]


@pytest.mark.django_db
def test_the_board_exports_as_csv(board, api):
    board("ann", "=HYPERLINK(1) dark mode please")
    board("bob", "Dark mode for the app", channel="webchat-api")
    response = api.get(f"{BOARD}export.csv", {"threshold": "0.3"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "feature-requests-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "key", "title", "customers", "conversations", "first_seen", "last_seen", "channels",
        "conversation_ids",
    ]  # fmt: skip
    [row] = rows[1:]
    assert row[1] == "'=HYPERLINK(1) dark mode please"  # never a formula in a spreadsheet
    assert row[2:4] == ["2", "2"]
    assert row[6] == "partner webchat-api"
    assert api.get(f"{BOARD}export.csv", {"threshold": "x"}).status_code == 400


@pytest.mark.django_db
def test_the_product_page_lists_the_requests(board, viewer):
    board("ann", "Export to PDF would be great")
    board("ann", "please add PDF export")
    board("bob", "Could you add exporting reports to PDF?")
    page = Client()
    page.force_login(viewer)
    response = page.get("/inbox/product/")
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('id="requests-title"') :]
    cells = re.findall(r"<td>(\d+)</td><td>(\d+)</td>", table)
    assert cells == [("2", "3")]  # two customers, three conversations
    assert "Export to PDF would be great" in table
    assert "/api/v1/feature-requests/export.csv" in table
    tight = page.get("/inbox/product/", {"threshold": "0.9"}).content.decode()
    # Tighter: only the two that say the same words stay one request.
    assert re.findall(r"<td>(\d+)</td><td>(\d+)</td>", tight) == [("1", "2"), ("1", "1")]
    bad = page.get("/inbox/product/", {"threshold": "7"})
    assert bad.status_code == 400
    assert "threshold" in bad.content.decode()


@pytest.mark.django_db
def test_the_product_team_sets_a_status_and_new_asks_join_the_request(board, viewer):
    product = APIClient()
    product.force_authenticate(viewer)  # pat, the product team, may curate the board
    first = board("ann", "Export to PDF would be great")
    board("bob", "please add PDF export")
    [computed] = product.get(BOARD).json()
    assert (computed["id"], computed["status"]) == (None, "new")

    response = product.patch(
        f"{BOARD}{first.pk}/", {"status": "planned", "title": "PDF export"}, format="json"
    )
    assert response.status_code == 200
    stored = response.json()
    assert stored["id"] is not None
    assert (stored["status"], stored["title"], stored["conversations"]) == (
        "planned",
        "PDF export",
        2,
    )

    board("cid", "Could you add exporting reports to PDF?")
    [grown] = product.get(BOARD).json()
    assert (grown["id"], grown["status"], grown["title"]) == (stored["id"], "planned", "PDF export")
    assert (grown["customers"], grown["conversations"]) == (3, 3)

    bad = product.patch(f"{BOARD}{first.pk}/", {"status": "maybe"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()
    assert product.patch(f"{BOARD}{first.pk}/", {}, format="json").json() == {
        "detail": ["Give a status or a title."]
    }
    missing = product.patch(f"{BOARD}999999/", {"status": "shipped"}, format="json")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No feature request holds that conversation."}


@pytest.mark.django_db
def test_requests_are_merged_and_split_by_hand(board, api):
    dark = board("ann", "Dark mode please")
    theme = board("bob", "Any plans for a dark theme?")
    assert sorted(g["conversations"] for g in api.get(BOARD).json()) == [1, 1]

    merged = api.post(f"{BOARD}{dark.pk}/merge/", {"requests": [theme.pk]}, format="json")
    assert merged.status_code == 200
    assert (merged.json()["customers"], merged.json()["conversations"]) == (2, 2)
    # Merged by hand: together whatever the threshold.
    assert [g["conversations"] for g in api.get(BOARD, {"threshold": "0.95"}).json()] == [2]
    itself = api.post(f"{BOARD}{dark.pk}/merge/", {"requests": [theme.pk]}, format="json")
    assert itself.json() == {"requests": ["Name at least one other request to merge."]}

    split = api.post(f"{BOARD}{dark.pk}/split/", {"conversations": [theme.pk]}, format="json")
    assert split.status_code == 201
    assert (split.json()["key"], split.json()["conversations"]) == (theme.pk, 1)
    groups = api.get(BOARD, {"threshold": "0.05"}).json()  # split by hand: apart at any threshold
    assert sorted(g["conversations"] for g in groups) == [1, 1]
    assert all(g["id"] is not None for g in groups)

    stranger = board("cid", "Integration with Slack")
    refused = api.post(f"{BOARD}{dark.pk}/split/", {"conversations": [stranger.pk]}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"conversations": [f"Not in this request: {stranger.pk}."]}
    everything = api.post(f"{BOARD}{dark.pk}/split/", {"conversations": [dark.pk]}, format="json")
    assert everything.json() == {
        "conversations": ["Name some, but not all, of the request's conversations."]
    }


@pytest.mark.django_db
def test_a_shipped_request_messages_each_customer_once(board, api, viewer):
    board.channels["webchat-api"].config = {"callback_url": "http://127.0.0.1:9/replies"}
    board.channels["webchat-api"].save()
    first = board("ann", "Export to PDF would be great", channel="webchat-api")
    again = board("ann", "please add PDF export", channel="webchat-api")
    bob = board("bob", "PDF export please", channel="partner")  # no callback: cannot reply
    url = f"{BOARD}{first.pk}/message/"
    text = {"text": "PDF export has shipped: Settings > Export."}

    early = api.post(url, text, format="json")
    assert early.status_code == 400
    assert early.json() == {"detail": ["Mark the request shipped first."]}
    shipped = api.patch(f"{BOARD}{first.pk}/", {"status": "shipped"}, format="json")
    assert shipped.status_code == 200

    reader = APIClient()
    reader.force_authenticate(viewer)
    assert reader.post(url, text, format="json").status_code == 403
    assert api.post(url, {"text": " "}, format="json").json() == {
        "text": ["Write the message to send."]
    }

    response = api.post(url, text, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["customers"], body["sent"]) == (2, [again.pk])  # ann once, on her latest
    assert body["refused"] == [
        {
            "conversation": bob.pk,
            "reason": "This API channel has no callback URL, so replies cannot be delivered.",
        }
    ]
    replies = Message.objects.filter(direction=Message.Direction.OUT)
    assert [(m.conversation_id, m.text) for m in replies] == [(again.pk, text["text"])]

    twice = api.post(url, text, format="json")
    assert twice.status_code == 400
    assert "were messaged at" in twice.json()["detail"][0]
    assert replies.count() == 1


@pytest.mark.django_db
def test_the_product_page_sets_a_requests_status(board, viewer, api):
    first = board("ann", "Dark mode please")
    page = Client()
    page.force_login(viewer)
    html = page.get("/inbox/product/").content.decode()
    assert f'action="/inbox/product/requests/{first.pk}/status/"' in html
    assert "Status of Dark mode please" in html

    response = page.post(f"/inbox/product/requests/{first.pk}/status/", {"status": "planned"})
    assert response.status_code == 302
    shown = page.get(response["Location"]).content.decode()
    assert "Dark mode please: planned." in shown
    assert '<option value="planned" selected>' in shown
    assert [g["status"] for g in api.get(BOARD).json()] == ["planned"]

    bad = page.post(f"/inbox/product/requests/{first.pk}/status/", {"status": "later"}, follow=True)
    assert "Status is one of new, planned, shipped, declined." in bad.content.decode()
    assert page.post("/inbox/product/requests/999999/status/", {"status": "new"}).status_code == 404
