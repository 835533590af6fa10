"""Channel icons are inline SVG drawings named in words, never emoji (which show as empty boxes
where the system has no emoji font, as in Debian's chromium)."""

import re

import pytest
from django.test import Client

from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db
# Pictographs and the symbol blocks the old icons came from (✉ ✈ ☏ ⚙ Ⓜ ◎ ▤ and 💬).
EMOJI = re.compile("[\u2190-\u2bff\u24b6-\u24ff\U0001f000-\U0001faff]")


def row_of(body: str, pk: int) -> str:
    start = body.index(f'id="row-{pk}"')
    return body[start : body.index("</tr>", start)]


@pytest.mark.parametrize(
    ("kind", "name"),
    [("email", "Email"), ("chat", "Live chat"), ("telegram", "Telegram"), ("twilio", "SMS")],
)
def test_a_list_row_shows_its_channel_as_an_svg_icon_with_its_name_and_no_emoji(
    agent, team, kind, name
):
    channel = ChannelFactory(kind=kind, default_team=team, name="Front door")
    conversation = ConversationFactory(team=team, channel=channel, subject="Where is my order")
    client = Client()
    client.force_login(agent)
    body = client.get("/inbox/").content.decode()
    row = row_of(body, conversation.pk)
    icon = re.search(r'<svg class="icon icon-(\w+)"[^>]*aria-hidden="true"[^>]*>.*?</svg>', row)
    assert icon and icon.group(1) == kind
    assert f'<span class="visually-hidden">{name}</span>' in row
    assert not EMOJI.search(row), EMOJI.findall(row)
    assert "style=" not in row  # the CSP allows no inline style: the size comes from app.css


def test_the_conversation_page_names_its_channel_with_an_icon_not_an_emoji(agent, team):
    channel = ChannelFactory(kind="email", default_team=team, name="Support mail")
    conversation = ConversationFactory(team=team, channel=channel, subject="Invoice")
    client = Client()
    client.force_login(agent)
    body = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    meta = body[body.index('id="conv-meta"') :][:1500]
    assert '<svg class="icon icon-email"' in meta and "Support mail" in meta
    assert "✉" not in body
