"""Spam and blocked contacts (issue 21), through the API and the real intake: mail posted to the
signed raw door, API-channel webhooks, the SMTP relay the acknowledgement goes to."""

import itertools
import json

import pytest

from inbox.intake.adapters import api as api_adapter
from inbox.intake.adapters.email import sign
from inbox.models import Contact, Conversation, InboundEvent, Message
from routing.models import SLAAlert, TeamPolicy
from tests.inbox.factories import ChannelFactory, ContactIdentityFactory, ConversationFactory
from tests.inbox.intake.email.mail import raw_mail
from tests.routing.factories import SLAPolicyFactory

pytestmark = pytest.mark.django_db

SECRET = "mail-secret"
ACK = "Thanks for writing. We answer within a day."
ids = itertools.count()


@pytest.fixture
def smtp_server(settings):
    from tests.support.smtp import LocalSMTPServer

    with LocalSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
        yield server


@pytest.fixture
def desk(team, agent):
    """An email channel that acknowledges new conversations, an SLA policy, and a team that
    hands new conversations out to its online agent: everything a blocked contact must not get."""
    TeamPolicy.objects.create(team=team, assignment=TeamPolicy.Assignment.ROUND_ROBIN)
    SLAPolicyFactory()
    return ChannelFactory(
        slug="help",
        address="help@support.example.com",
        secret=SECRET,
        default_team=team,
        config={"auto_ack": {"enabled": True, "text": ACK}},
    )


@pytest.fixture
def mail(client, desk, smtp_server, django_capture_on_commit_callbacks):
    """Post a customer's mail to the signed raw door; what is queued on commit runs."""

    def send(sender="Mallory <mallory@spam.example>", text="Cheap pills", **options):
        body = raw_mail(sender=sender, text=text, message_id=f"m{next(ids)}@x.example", **options)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/webhooks/email/help/raw",
                data=body,
                content_type="message/rfc822",
                HTTP_X_SIGNATURE=sign(SECRET, body),
            )
        assert response.status_code == 202
        event = InboundEvent.objects.get(pk=response.json()["event"])
        assert event.status == InboundEvent.Status.PROCESSED, event.error
        return Message.objects.get(inbound_event=event)

    return send


def listed_ids(client, **params) -> set[int]:
    response = client.get("/api/v1/conversations/", params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def every_view(client) -> set[int]:
    """What the list API shows under every status and the default, and a search."""
    seen = listed_ids(client)
    for status in ("open", "pending", "snoozed", "resolved", "spam"):
        seen |= listed_ids(client, status=status)
    return seen | listed_ids(client, q="pills")


def mallory() -> Contact:
    identity = ContactIdentityFactory(
        contact__name="Mallory", contact__email="mallory@spam.example"
    )
    return identity.contact


# --- blocking ---------------------------------------------------------------------------------


def test_a_blocked_contacts_mail_is_stored_but_opens_nothing(
    mail, client_for, lead, admin_user, smtp_server
):
    # Before the block, the desk gives Mallory an acknowledgement, SLA clocks and an agent.
    first = mail(text="Cheap pills")
    opened = Conversation.objects.get(pk=first.conversation_id)
    assert opened.first_response_due is not None and opened.assignee is not None
    assert len(smtp_server.messages) == 1
    contact = first.sender_contact

    response = client_for(lead).post(f"/api/v1/contacts/{contact.pk}/block/")
    assert response.status_code == 200, response.content
    assert response.json()["blocked"] is True and response.json()["blocked_at"]

    stored = mail(text="Cheap pills, best price", subject="Offer")
    assert stored.text.strip() == "Cheap pills, best price"
    assert stored.sender_contact_id == contact.pk
    held = Conversation.objects.get(pk=stored.conversation_id)
    assert held.pk != opened.pk and held.status == "blocked"
    assert held.assignee_id is None and held.first_response_due is None
    assert held.resolution_due is None and held.sla_clock is None
    assert not SLAAlert.objects.filter(conversation=held).exists()
    assert len(smtp_server.messages) == 1  # no acknowledgement went out
    assert not Message.objects.filter(conversation=held, direction="out").exists()

    # The next one joins the same hidden conversation.
    again = mail(text="More pills", subject="Offer 2")
    assert again.conversation_id == held.pk

    for user in (lead, admin_user):
        client = client_for(user)
        assert held.pk not in every_view(client)
        assert opened.pk in every_view(client)
    # The contact's page (API) shows it, with its messages.
    detail = client_for(lead).get(f"/api/v1/contacts/{contact.pk}/").json()
    assert sorted(c["status"] for c in detail["conversations"]) == ["blocked", "open"]
    thread = client_for(lead).get(f"/api/v1/conversations/{held.pk}/messages/").json()
    texts = [m["text"].strip() for m in thread]
    assert texts == ["Cheap pills, best price", "More pills"]


def test_after_unblocking_the_next_mail_opens_a_conversation_as_usual(
    mail, client_for, lead, smtp_server
):
    contact = mail().sender_contact
    client = client_for(lead)
    client.post(f"/api/v1/contacts/{contact.pk}/block/")
    held = mail(subject="Held")
    assert Conversation.objects.get(pk=held.conversation_id).status == "blocked"
    response = client.delete(f"/api/v1/contacts/{contact.pk}/block/")
    assert response.status_code == 200 and response.json()["blocked"] is False

    fresh = mail(text="Sorry, a real question", subject="Held")
    assert fresh.conversation_id != held.conversation_id
    conversation = Conversation.objects.get(pk=fresh.conversation_id)
    assert conversation.status == "open" and conversation.first_response_due is not None
    assert conversation.previous_id is None
    assert fresh.conversation_id in listed_ids(client)
    assert held.conversation_id not in every_view(client)


def test_a_blocked_contacts_chat_webhooks_are_kept_in_one_hidden_conversation(
    client, team, lead, client_for, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(slug="partner", kind="api", secret="api-secret", default_team=team)

    def post(event_id, text):
        body = json.dumps(
            {"id": event_id, "sender": {"id": "u-9", "name": "Bot"}, "text": text}
        ).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/webhooks/api/partner/",
                data=body,
                content_type="application/json",
                HTTP_X_SIGNATURE=api_adapter.sign("api-secret", body),
            )
        assert response.status_code == 202
        return Message.objects.get(channel=channel, external_id=event_id)

    first = post("e1", "hello")
    contact_id = first.sender_contact_id
    assert client_for(lead).post(f"/api/v1/contacts/{contact_id}/block/").status_code == 200
    second, third = post("e2", "spam one"), post("e3", "spam two")
    assert second.conversation_id == third.conversation_id != first.conversation_id
    assert Conversation.objects.get(pk=second.conversation_id).status == "blocked"
    assert second.conversation_id not in every_view(client_for(lead))
    assert post("e3", "spam two").pk == third.pk  # a redelivery is still one message


@pytest.mark.parametrize("who", ["agent", "viewer"])
def test_only_leads_and_admins_may_block(request, who, client_for):
    contact = mallory()
    ConversationFactory(contact=contact, team=request.getfixturevalue("team"))
    user = request.getfixturevalue(who)
    client = client_for(user)
    for method in (client.post, client.delete):
        response = method(f"/api/v1/contacts/{contact.pk}/block/")
        assert response.status_code == 403
        assert "admins and leads" in response.json()["detail"]
    contact.refresh_from_db()
    assert contact.blocked_at is None


def test_blocking_an_unknown_contact_is_a_404(client_for, admin_user):
    response = client_for(admin_user).post("/api/v1/contacts/999999/block/")
    assert response.status_code == 404 and "detail" in response.json()


# --- spam -------------------------------------------------------------------------------------


def test_spam_leaves_every_view_and_the_contacts_next_mail_follows_until_not_spam(
    mail, client_for, agent, smtp_server
):
    client = client_for(agent)
    first = mail()
    conversation_id = first.conversation_id
    assert conversation_id in listed_ids(client) and len(smtp_server.messages) == 1

    response = client.patch(
        f"/api/v1/conversations/{conversation_id}/", {"status": "spam"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "spam"
    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.first_response_due is None and conversation.resolution_due is None
    for params in ({}, {"status": "open"}, {"q": "pills"}, {"assignee": "me"}):
        assert conversation_id not in listed_ids(client, **params)
    assert listed_ids(client, status="spam") == {conversation_id}

    # The contact writes again, in a new thread: it opens straight in spam, unacknowledged,
    # unassigned, with no SLA clock.
    second = mail(text="Even cheaper pills", subject="Offer")
    spam = Conversation.objects.get(pk=second.conversation_id)
    assert spam.pk != conversation_id and spam.status == "spam"
    assert spam.assignee_id is None and spam.first_response_due is None
    assert len(smtp_server.messages) == 1
    assert listed_ids(client, status="spam") == {conversation_id, spam.pk}
    assert spam.pk not in listed_ids(client)

    response = client.patch(f"/api/v1/conversations/{spam.pk}/", {"status": "open"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "open"
    back = Conversation.objects.get(pk=spam.pk)
    assert back.first_response_due is not None  # owed an answer from now
    assert spam.pk in listed_ids(client)
    third = mail(text="A real question now", subject="Question")
    assert Conversation.objects.get(pk=third.conversation_id).status == "open"
    assert third.conversation_id in listed_ids(client)


def test_a_reply_from_a_spam_contact_in_an_open_conversation_goes_to_spam(mail, client_for, agent):
    client = client_for(agent)
    legit = mail(sender="Ann <ann@example.com>", text="Printer question")
    first = mail(sender="Ann <ann@example.com>", text="Buy pills", subject="Pills")
    client.patch(
        f"/api/v1/conversations/{first.conversation_id}/", {"status": "spam"}, format="json"
    )
    token = Conversation.objects.get(pk=legit.conversation_id).reply_token
    reply = mail(
        sender="Ann <ann@example.com>",
        text="Pills again",
        subject="Re: Printer question",
        to=f"help+{token}@support.example.com",
    )
    assert reply.conversation_id == legit.conversation_id
    assert Conversation.objects.get(pk=legit.conversation_id).status == "spam"
    assert legit.conversation_id not in listed_ids(client)
    assert legit.conversation_id in listed_ids(client, status="spam")


def test_blocked_is_not_a_status_anyone_sets_or_filters_on(client_for, admin_user, mail):
    client = client_for(admin_user)
    message = mail()
    response = client.patch(
        f"/api/v1/conversations/{message.conversation_id}/", {"status": "blocked"}, format="json"
    )
    assert response.status_code == 400 and "status" in response.json()
    response = client.get("/api/v1/conversations/", {"status": "blocked"})
    assert response.status_code == 400 and "status" in response.json()


# --- automated mail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Id": "<announce.lists.example>", "List-Unsubscribe": "<mailto:leave@lists.example>"},
        {"Precedence": "bulk"},
        {"Auto-Submitted": "auto-replied", "Subject": "Out of office"},
        {"X-Autoreply": "yes"},
    ],
    ids=["list", "bulk", "auto-submitted", "x-autoreply"],
)
def test_automated_mail_that_answers_nothing_of_ours_goes_to_the_automated_view(
    mail, client_for, agent, smtp_server, headers
):
    subject = headers.pop("Subject", "Weekly digest")
    message = mail(sender="News <news@lists.example>", subject=subject, headers=headers)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.status == "automated"
    assert conversation.assignee_id is None and conversation.first_response_due is None
    assert smtp_server.messages == []  # never acknowledged
    client = client_for(agent)
    assert conversation.pk not in listed_ids(client)
    assert conversation.pk not in listed_ids(client, status="open")
    assert listed_ids(client, status="automated") == {conversation.pk}


def test_an_auto_reply_to_our_mail_stays_in_its_conversation(mail, client_for, agent):
    question = mail(sender="Ann <ann@example.com>", text="Printer question")
    token = Conversation.objects.get(pk=question.conversation_id).reply_token
    away = mail(
        sender="Ann <ann@example.com>",
        subject="Out of office: Re: Printer on fire",
        to=f"help+{token}@support.example.com",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert away.auto_kind == "auto_reply"
    assert away.conversation_id == question.conversation_id
    assert Conversation.objects.get(pk=question.conversation_id).status == "open"
    assert question.conversation_id in listed_ids(client_for(agent))


def test_a_routing_rule_that_asks_for_automated_mail_brings_it_to_the_inbox(
    mail, client_for, agent
):
    from routing.models import RoutingRule

    RoutingRule.objects.create(
        name="Status page alerts are ours",
        position=1,
        conditions={"automated": True, "sender_domains": ["status.example"]},
        actions={"set_status": "open", "add_tags": []},
    )
    RoutingRule.objects.create(  # a rule that does not ask for automated mail never sees it
        name="Everything to pending", position=2, conditions={}, actions={"set_status": "pending"}
    )
    alert = mail(sender="Alerts <alerts@status.example>", headers={"Precedence": "bulk"})
    digest = mail(sender="News <news@lists.example>", headers={"Precedence": "bulk"})
    assert Conversation.objects.get(pk=alert.conversation_id).status == "open"
    assert Conversation.objects.get(pk=digest.conversation_id).status == "automated"
    client = client_for(agent)
    assert alert.conversation_id in listed_ids(client)
    assert digest.conversation_id not in listed_ids(client)
