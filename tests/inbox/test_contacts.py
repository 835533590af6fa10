"""One person across channels: merging two contacts, and the contact's page in the API."""

import pytest
from django.core.exceptions import PermissionDenied

from inbox.contacts import MergeRefused, merge_contacts
from inbox.intake.receive import receive_message
from inbox.models import Activity, Contact, ContactIdentity
from inbox.normalized import NormalizedMessage, SenderRef
from tests.accounts.factories import TeamFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ContactIdentityFactory,
    ConversationFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(team):
    """Ada wrote by email and, unlinked, from Telegram."""
    email = ChannelFactory(slug="mail", kind="email", default_team=team)
    telegram = ChannelFactory(slug="tg", kind="telegram", default_team=team)
    target = ContactFactory(name="Ada Lovelace", email="ada@example.com", phone="")
    source = ContactFactory(name="", email="", phone="+447700900123")
    ContactIdentityFactory(contact=target, kind="email", external_id="ada@example.com")
    ContactIdentityFactory(contact=source, kind="telegram", external_id="777", verified=False)
    by_mail = ConversationFactory(channel=email, contact=target)
    by_telegram = ConversationFactory(channel=telegram, contact=source)
    MessageFactory(conversation=by_telegram)
    return source, target, by_mail, by_telegram


def test_merging_moves_identities_conversations_and_messages(
    pair, lead, published, django_capture_on_commit_callbacks
):
    source, target, by_mail, by_telegram = pair
    with django_capture_on_commit_callbacks(execute=True):
        merge_contacts(source_id=source.pk, target_id=target.pk, actor=lead)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert set(target.identities.values_list("kind", "external_id")) == {
        ("email", "ada@example.com"),
        ("telegram", "777"),
    }
    assert set(target.conversations.values_list("pk", flat=True)) == {by_mail.pk, by_telegram.pk}
    assert not source.conversations.exists() and not source.messages.exists()
    assert target.messages.count() == 1
    assert target.phone == "+447700900123" and target.name == "Ada Lovelace"
    [audit] = Activity.objects.filter(verb="contact_merged")
    assert (audit.conversation_id, audit.actor_id) == (by_telegram.pk, lead.pk)
    assert (audit.from_value, audit.to_value) == (source.pk, target.pk)
    [event] = [e for e in published if e.type == "contact.merged"]
    assert event.payload == {
        "contact": source.pk,
        "merged_into": target.pk,
        "source": source.pk,
        "target": target.pk,
        "conversations": [by_telegram.pk],
        "identities": ["telegram:777"],
    }


def test_after_a_merge_the_next_telegram_message_joins_the_merged_contact(pair, lead):
    source, target, _, by_telegram = pair
    merge_contacts(source_id=source.pk, target_id=target.pk, actor=lead)
    received = receive_message(
        channel=by_telegram.channel,
        message=NormalizedMessage(
            channel_kind="telegram",
            external_id="777:2",
            thread_key=None,
            sender=SenderRef(kind="telegram", id="777", name="Ada"),
            text="Any news?",
            html=None,
            attachments=(),
            sent_at=by_telegram.created_at,
        ),
    )
    assert received.conversation.pk == by_telegram.pk
    assert received.message.sender_contact_id == target.pk


def test_agents_may_not_merge(pair, agent):
    source, target, _, _ = pair
    with pytest.raises(PermissionDenied):
        merge_contacts(source_id=source.pk, target_id=target.pk, actor=agent)
    assert Contact.objects.get(pk=source.pk).merged_into_id is None


def test_a_contact_cannot_be_merged_into_itself_or_twice(pair, admin_user):
    source, target, _, _ = pair
    with pytest.raises(MergeRefused, match="itself"):
        merge_contacts(source_id=target.pk, target_id=target.pk, actor=admin_user)
    merge_contacts(source_id=source.pk, target_id=target.pk, actor=admin_user)
    with pytest.raises(MergeRefused, match="already merged"):
        merge_contacts(source_id=source.pk, target_id=target.pk, actor=admin_user)
    other = ContactFactory()
    with pytest.raises(MergeRefused, match="merge into that one"):
        merge_contacts(source_id=other.pk, target_id=source.pk, actor=admin_user)


def test_the_merge_api_for_a_lead(pair, lead, client_for):
    source, target, by_mail, by_telegram = pair
    response = client_for(lead).post(
        f"/api/v1/contacts/{source.pk}/merge/", {"into": target.pk}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == target.pk
    assert {c["id"] for c in body["conversations"]} == {by_mail.pk, by_telegram.pk}


def test_the_merge_api_refuses_agents_and_bad_requests(pair, agent, admin_user, client_for):
    source, target, _, _ = pair
    url = f"/api/v1/contacts/{source.pk}/merge/"
    assert client_for(agent).post(url, {"into": target.pk}, format="json").status_code == 403
    admin = client_for(admin_user)
    assert admin.post(url, {"into": "x"}, format="json").status_code == 400
    itself = admin.post(url, {"into": source.pk}, format="json")
    assert itself.status_code == 400 and "itself" in itself.json()["into"][0]
    assert admin.post(url, {"into": 999999}, format="json").status_code == 404
    assert Contact.objects.get(pk=source.pk).merged_into_id is None


def test_the_contact_page_lists_identities_and_conversations_on_every_channel(
    pair, agent, client_for
):
    source, target, by_mail, by_telegram = pair
    ContactIdentity.objects.filter(contact=source).update(contact=target)
    by_telegram.contact = target
    by_telegram.save()
    body = client_for(agent).get(f"/api/v1/contacts/{target.pk}/").json()
    assert body["name"] == "Ada Lovelace" and body["merged_into"] is None
    assert {(i["kind"], i["external_id"]) for i in body["identities"]} == {
        ("email", "ada@example.com"),
        ("telegram", "777"),
    }
    assert {(c["id"], c["channel_kind"]) for c in body["conversations"]} == {
        (by_mail.pk, "email"),
        (by_telegram.pk, "telegram"),
    }


def test_conversations_outside_the_agents_scope_are_left_out(pair, agent, client_for):
    _, target, by_mail, _ = pair
    elsewhere = ConversationFactory(
        channel=ChannelFactory(slug="sales-mail", default_team=TeamFactory(slug="sales")),
        contact=target,
    )
    body = client_for(agent).get(f"/api/v1/contacts/{target.pk}/").json()
    assert [c["id"] for c in body["conversations"]] == [by_mail.pk]
    assert elsewhere.pk not in {c["id"] for c in body["conversations"]}


def test_a_contact_with_nothing_the_agent_may_see_is_404(agent, admin_user, client_for):
    stranger = ContactFactory()
    ConversationFactory(
        contact=stranger,
        channel=ChannelFactory(slug="sales-mail", default_team=TeamFactory(slug="sales")),
    )
    assert client_for(agent).get(f"/api/v1/contacts/{stranger.pk}/").status_code == 404
    assert client_for(admin_user).get(f"/api/v1/contacts/{stranger.pk}/").status_code == 200
    merge = client_for(agent).post(
        f"/api/v1/contacts/{stranger.pk}/merge/", {"into": stranger.pk}, format="json"
    )
    assert merge.status_code == 404


def test_the_contact_page_costs_the_same_queries_for_many_conversations(
    pair, admin_user, django_assert_num_queries
):
    from inbox.contact_api import ContactDetailOutputSerializer
    from inbox.selectors import contact_get_for_user

    _, target, by_mail, _ = pair
    for _ in range(5):
        ConversationFactory(channel=by_mail.channel, contact=target)
    with django_assert_num_queries(3):  # the contact, its identities, its visible conversations
        contact = contact_get_for_user(user=admin_user, pk=target.pk)
        data = ContactDetailOutputSerializer(contact).data
    assert len(data["conversations"]) == 6


def test_the_api_schema_documents_the_contact_endpoints_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert "/api/v1/contacts/{id}/:" in schema and "/api/v1/contacts/{id}/merge/:" in schema


def test_the_contact_page_shows_identities_and_conversations_escaped(pair, agent, client):
    source, target, by_mail, _ = pair
    Contact.objects.filter(pk=target.pk).update(name="<script>alert(1)</script>")
    client.force_login(agent)
    page = client.get(f"/inbox/contacts/{target.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert (
        '<span class="identity-kind">email</span> <span class="identity-id">ada@example.com</span>'
        ' <span class="meta">(verified)</span>' in page
    )
    assert f'data-conversation="{by_mail.pk}"' in page
    assert "Merge into another contact" not in page  # agents may not merge
    assert client.get(f"/inbox/contacts/{source.pk}/").status_code == 200


def test_a_lead_merges_from_the_contact_page(pair, lead):
    from django.test import Client

    source, target, _, _ = pair
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(lead)
    page = browser.get(f"/inbox/contacts/{source.pk}/")
    assert "Merge into another contact" in page.content.decode()
    token = page.cookies["csrftoken"].value
    url = f"/inbox/contacts/{source.pk}/merge/"
    assert browser.post(url, {"into": target.pk}).status_code == 403  # no CSRF token
    response = browser.post(url, {"into": target.pk, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == f"/inbox/contacts/{target.pk}/"
    assert Contact.objects.get(pk=source.pk).merged_into_id == target.pk
    itself = browser.post(
        f"/inbox/contacts/{target.pk}/merge/", {"into": target.pk, "csrfmiddlewaretoken": token}
    )
    assert itself.status_code == 400 and "cannot be merged into itself" in itself.content.decode()


def test_an_agent_cannot_merge_from_the_page(pair, agent, client):
    source, target, _, _ = pair
    client.force_login(agent)
    response = client.post(f"/inbox/contacts/{source.pk}/merge/", {"into": target.pk})
    assert response.status_code == 403
    assert Contact.objects.get(pk=source.pk).merged_into_id is None
    assert client.get(f"/inbox/contacts/{source.pk}/merge/").status_code == 405
