"""Finding customers: a conversation's title (subject, else the customer's first message, never
our reply), one search over conversations and contacts by whole words on either database, and
the contact page with its identities, conversations and merge of a duplicate."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from inbox import search
from inbox.models import Contact, Conversation, Message
from inbox.titles import one_line, title_for
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ContactIdentityFactory,
    ConversationFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def conversation_with(team, *, contact=None, subject="", texts=(), kind="chat"):
    """A conversation whose messages are indexed as intake indexes them; texts are (direction,
    text) in order."""
    channel = ChannelFactory(slug=f"{kind}-{team.slug}", kind=kind, default_team=team)
    conv = ConversationFactory(
        channel=channel, subject=subject, contact=contact or ContactFactory()
    )
    search.index_text(conversation_id=conv.pk, text="", subject=subject)
    start = timezone.now() - dt.timedelta(hours=1)
    for i, (direction, text) in enumerate(texts):
        MessageFactory(
            conversation=conv,
            direction=direction,
            text=text,
            sender_contact=conv.contact if direction == "in" else None,
            created_at=start + dt.timedelta(minutes=i),
        )
        search.index_text(conversation_id=conv.pk, text=text)
    if texts:
        Conversation.objects.filter(pk=conv.pk).update(snippet=texts[-1][1][:200])
    return conv


# --- the title ------------------------------------------------------------------------------------


def test_the_title_is_the_subject_else_the_customers_first_line():
    assert title_for("Invoice 12", "Hello") == "Invoice 12"
    assert title_for("", "\n  My   order never came \nsecond line") == "My order never came"
    assert title_for("   ", None) == "(no subject)"
    assert len(one_line("x" * 300)) == 80 and one_line("x" * 300).endswith("…")


def test_a_chat_row_is_titled_by_the_customers_first_message_not_our_reply(agent, team):
    chat = conversation_with(
        team,
        texts=[
            ("out", "Welcome! How can we help?"),  # the widget's greeting comes first
            ("in", "My parcel 7731 never arrived\nIt was due Monday"),
            ("in", "Hello??"),
            ("out", "Sorry, checking with the courier now"),
        ],
    )
    silent = conversation_with(team, texts=[("out", "We are reaching out about your renewal")])
    mailed = conversation_with(team, subject="Refund request", texts=[("in", "Please refund")])
    client = browser_for(agent)

    inbox = client.get("/inbox/").content.decode()
    assert ">My parcel 7731 never arrived</a>" in inbox
    assert "Sorry, checking with the courier" not in inbox
    assert ">Refund request</a>" in inbox
    row = inbox.split(f'id="row-{silent.pk}"')[1].split("</tr>")[0]
    assert ">(no subject)</a>" in row and "renewal" not in row

    page = client.get(f"/inbox/conversations/{chat.pk}/").content.decode()
    assert '<h1 id="conv-title">My parcel 7731 never arrived</h1>' in page
    assert "<title>My parcel 7731 never arrived · Switchboard</title>" in page
    assert (
        client.get(f"/inbox/rows/{chat.pk}/")
        .content.decode()
        .count(">My parcel 7731 never arrived</a>")
        == 1
    )
    assert mailed.pk  # titled by its subject above


def test_the_lead_board_titles_rows_the_same_way(lead, team):
    conversation_with(team, texts=[("in", "Cannot log in since the update"), ("out", "On it!")])
    board = browser_for(lead).get("/inbox/board/").content.decode()
    assert "Cannot log in since the update" in board and "On it!" not in board


# --- words, not substrings, on either database ----------------------------------------------------


@pytest.fixture
def words(team):
    """Eve is named in one message and one subject; "never" and "Steve" hold her name's letters."""
    return {
        "asked": conversation_with(team, texts=[("in", "Could you ask Eve about the invoice?")]),
        "subject": conversation_with(team, subject="Eve's order", texts=[("in", "hi")]),
        "never": conversation_with(team, texts=[("in", "It never worked, ever")]),
        "steve": conversation_with(team, subject="From Steve", texts=[("in", "Seven items")]),
    }


@pytest.mark.parametrize("q", ["Eve", "eve", "EVE"])
def test_search_matches_whole_words_only(agent, words, q):
    found = set(search.search(Conversation.objects.all(), q).values_list("pk", flat=True))
    assert found == {words["asked"].pk, words["subject"].pk}


def test_every_word_of_the_query_must_match(agent, words):
    found = search.search(Conversation.objects.all(), "invoice eve").values_list("pk", flat=True)
    assert list(found) == [words["asked"].pk]
    assert not search.search(Conversation.objects.all(), "invoice steve").exists()


def test_the_inbox_search_lists_word_matches(agent, words):
    body = browser_for(agent).get("/inbox/", {"q": "eve"}).content.decode()
    assert f'id="row-{words["asked"].pk}"' in body
    assert f'id="row-{words["subject"].pk}"' in body
    assert f'id="row-{words["never"].pk}"' not in body
    assert f'id="row-{words["steve"].pk}"' not in body


def test_a_search_looks_through_every_status_unless_one_is_picked(agent, words):
    Conversation.objects.filter(pk=words["asked"].pk).update(status="resolved")
    client = browser_for(agent)
    row = f'id="row-{words["asked"].pk}"'
    assert row in client.get("/inbox/", {"q": "eve"}).content.decode()
    assert row not in client.get("/inbox/", {"q": "eve", "status": "open"}).content.decode()
    assert row not in client.get("/inbox/").content.decode()  # the inbox itself: open ones
    assert row in client.get("/inbox/", {"status": "any"}).content.decode()


@pytest.fixture
def people(team, other_team):
    eve = ContactFactory(name="Eve Adams", email="eve.adams@example.com", phone="+15550101")
    ContactIdentityFactory(contact=eve, kind="telegram", external_id="eve_tg", verified=False)
    neve = ContactFactory(name="Neve Campbell", email="n.campbell@example.org", phone="")
    steve = ContactFactory(name="Steve Jobs", email="steve@example.com", phone="")
    hidden = ContactFactory(name="Eve Hidden", email="eh@example.net", phone="")
    for person in (eve, neve, steve):
        conversation_with(team, contact=person, texts=[("in", "hello")])
    conversation_with(other_team, contact=hidden, texts=[("in", "hello")])
    return {"eve": eve, "neve": neve, "steve": steve, "hidden": hidden}


@pytest.mark.parametrize(
    "q",
    ["Eve", "adams", "Eve Adams", "eve.adams@example.com", "EVE.ADAMS@EXAMPLE.COM", "eve_tg"],
)
def test_contacts_are_found_by_name_email_and_handle_as_whole_words(agent, people, q):
    found = search.contacts_matching(user=agent, q=q)
    assert [c.pk for c in found] == [people["eve"].pk]
    assert found[0].conversation_count == 1


def test_contacts_are_found_by_phone_digits_however_they_are_typed(agent, people):
    for q in ("+15550101", "555 0101", "(555) 0101"):
        assert [c.pk for c in search.contacts_matching(user=agent, q=q)] == [people["eve"].pk]


def test_contact_search_keeps_to_what_the_agent_may_see(agent, admin_user, people):
    assert people["hidden"].pk not in {c.pk for c in search.contacts_matching(user=agent, q="eve")}
    assert people["hidden"].pk in {c.pk for c in search.contacts_matching(user=admin_user, q="eve")}
    Contact.objects.filter(pk=people["eve"].pk).update(merged_into=people["steve"])
    assert search.contacts_matching(user=agent, q="adams") == []  # merged away


def test_the_inbox_search_shows_contacts_as_their_own_group(agent, people):
    client = browser_for(agent)
    body = client.get("/inbox/", {"q": "eve"}).content.decode()
    group = body.split('id="found-contacts-title"')[1].split("</section>")[0]
    assert f'href="/inbox/contacts/{people["eve"].pk}/?q=eve"' in group
    assert "Eve Adams" in group and "1 conversation" in group
    assert "Neve" not in group and "Steve" not in group and "Eve Hidden" not in group
    nobody = client.get("/inbox/", {"q": "zebra"}).content.decode()
    assert "No contact matches “zebra”." in nobody
    assert 'id="found-contacts-title"' not in client.get("/inbox/").content.decode()


def test_one_searchbox_named_search_on_every_page(agent, team):
    client = browser_for(agent)
    conv = conversation_with(team, texts=[("in", "hi")])
    for url in ("/inbox/", f"/inbox/conversations/{conv.pk}/", "/inbox/product/"):
        body = client.get(url).content.decode()
        assert body.count(">Search</label>") == 1, url
        assert '<label for="search-q" class="visually-hidden">Search</label>' in body


# --- the contact page -----------------------------------------------------------------------------


@pytest.fixture
def ada(team, other_team):
    ada = ContactFactory(name="Ada Lovelace", email="ada@example.com", phone="")
    ContactIdentityFactory(contact=ada, kind="email", external_id="ada@example.com")
    ContactIdentityFactory(contact=ada, kind="telegram", external_id="ada_l", verified=False)
    chat = conversation_with(team, contact=ada, texts=[("in", "Printer on fire"), ("out", "Oh")])
    mail = conversation_with(
        team, contact=ada, subject="Invoice", texts=[("in", "x")], kind="email"
    )
    Conversation.objects.filter(pk=mail.pk).update(status="resolved")
    sales = conversation_with(other_team, contact=ada, subject="Quote", texts=[("in", "y")])
    return {"contact": ada, "chat": chat, "mail": mail, "sales": sales}


def test_the_contact_page_lists_identities_and_titled_conversations_with_status(agent, ada):
    page = browser_for(agent).get(f"/inbox/contacts/{ada['contact'].pk}/").content.decode()
    assert "<h1>Ada Lovelace</h1>" in page
    assert '<span class="identity-kind">telegram</span> <span class="identity-id">ada_l</span>' in (
        page
    )
    chat_row = page.split(f'data-conversation="{ada["chat"].pk}"')[1].split("</tr>")[0]
    assert ">Printer on fire</a>" in chat_row and "Open" in chat_row
    mail_row = page.split(f'data-conversation="{ada["mail"].pk}"')[1].split("</tr>")[0]
    assert ">Invoice</a>" in mail_row and "Resolved" in mail_row
    assert f'data-conversation="{ada["sales"].pk}"' not in page  # another team's
    assert "Merge a duplicate" not in page  # agents may not merge


def test_a_lead_merges_a_duplicate_into_the_contact_from_its_page(lead, ada, team):
    ada_contact = ada["contact"]
    twin = ContactFactory(name="ada lovelace", email="", phone="+447700900123")
    ContactIdentityFactory(contact=twin, kind="whatsapp", external_id="447700900123")
    by_phone = conversation_with(team, contact=twin, texts=[("in", "Is my order shipped?")])
    client = browser_for(lead)
    page = client.get(f"/inbox/contacts/{ada_contact.pk}/").content.decode()
    assert "Merge a duplicate into this contact" in page
    assert f'name="duplicate" value="{twin.pk}"' in page  # suggested: the same name

    response = client.post(
        f"/inbox/contacts/{ada_contact.pk}/merge-duplicate/", {"duplicate": twin.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/contacts/{ada_contact.pk}/"
    kept = Contact.objects.get(pk=ada_contact.pk)
    assert (kept.name, kept.email, kept.phone) == (
        "Ada Lovelace",
        "ada@example.com",
        "+447700900123",
    )
    assert Conversation.objects.get(pk=by_phone.pk).contact_id == ada_contact.pk
    assert set(kept.identities.values_list("kind", flat=True)) == {"email", "telegram", "whatsapp"}
    assert Contact.objects.get(pk=twin.pk).merged_into_id == ada_contact.pk
    after = client.get(f"/inbox/contacts/{ada_contact.pk}/").content.decode()
    assert ">Is my order shipped?</a>" in after


def test_merging_refuses_itself_and_bad_numbers_in_words(lead, agent, ada):
    pk = ada["contact"].pk
    client = browser_for(lead)
    url = f"/inbox/contacts/{pk}/merge-duplicate/"
    itself = client.post(url, {"duplicate_id": pk})
    assert itself.status_code == 400
    assert "A contact cannot be merged into itself." in itself.content.decode()
    garbage = client.post(url, {"duplicate_id": "ada"})
    assert garbage.status_code == 400 and "type its number" in garbage.content.decode()
    missing = client.post(url, {"duplicate_id": "999999"})
    assert missing.status_code == 400
    assert "There is no contact 999999 that you may see." in missing.content.decode()
    assert browser_for(agent).post(url, {"duplicate_id": "1"}).status_code == 403
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0


def test_the_conversation_page_links_its_contact(agent, ada):
    page = browser_for(agent).get(f"/inbox/conversations/{ada['chat'].pk}/").content.decode()
    assert f'href="/inbox/contacts/{ada["contact"].pk}/"' in page


def test_our_own_replies_are_searchable_too(agent, team):
    """Our own words are searchable too: an agent finds the conversation where they promised
    something, on either database."""
    conv = conversation_with(team, texts=[("in", "help"), ("out", "I will refund you tomorrow")])
    found = search.search(Conversation.objects.all(), "refund").values_list("pk", flat=True)
    assert list(found) == [conv.pk]
    assert Message.objects.filter(conversation=conv).count() == 2


@pytest.mark.postgres
def test_contact_search_can_read_its_trigram_index_on_postgres(people):
    """The search's expression is the index's (migration 0012): were they to drift apart, every
    search would read every contact."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for lookup in ({"haystack__iregex": search.word_pattern("eve")}, {"haystack__contains": "555"}):
        plan = search.contacts_with_haystack().filter(**lookup).explain()
        assert "contact_search_trgm" in plan, plan
