"""A routing rule's `send_canned` action: the canned response, filled in, goes out once per
conversation through the outbound queue as the system, never to automated mail (an Automated
conversation, an auto-reply, list mail, a bounce)."""

import pytest
from django.utils import timezone

from inbox.intake.receive import receive_message
from inbox.models import Activity, CannedResponse, Message, Status
from inbox.normalized import NormalizedMessage, SenderRef
from routing.models import RoutingRule
from routing.rules import CANNED_VERB, run_routing_rules, send_rule_canned_reply
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def arrive(channel, text, *, sender="ann@example.com", auto_kind="", headers=None, n=[0]):  # noqa: B006
    n[0] += 1
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind=channel.kind,
            external_id=f"<canned-{n[0]}@x>",
            thread_key=None,
            sender=SenderRef(kind="email", id=sender, email=sender, verified=True),
            text=text,
            html=None,
            attachments=(),
            sent_at=timezone.now(),
            subject="Refund",
            auto_kind=auto_kind,
            headers=headers or {},
        ),
    ).conversation


@pytest.fixture
def mail(team):
    return ChannelFactory(slug="mail", kind="email", default_team=team, address="help@ours.example")


@pytest.fixture
def rule(db):
    canned = CannedResponse.objects.create(
        title="Refund policy", text="Hi {{contact.first_name}}, refunds take 5 days."
    )
    return RoutingRule.objects.create(
        name="Refund answer",
        conditions={"keywords": ["refund"]},
        actions={"send_canned": canned.pk},
    )


def replies(conversation):
    return list(conversation.messages.filter(direction=Message.Direction.OUT))


def test_a_matching_conversation_gets_the_canned_reply_once(
    mail, rule, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        conversation = arrive(mail, "I want a refund", sender="ann.lee@example.com")
    [reply] = replies(conversation)
    assert reply.text.startswith("Hi ") and "{{" not in reply.text
    assert "refunds take 5 days" in reply.text
    assert (reply.sender_user, reply.auto_kind) == (None, Message.AutoKind.AUTO_REPLY)
    assert reply.delivery_status == Message.DeliveryStatus.QUEUED
    # The rule running again (tags changed, a retry) sends nothing more.
    run_routing_rules(conversation, text="refund")
    assert send_rule_canned_reply(rule=rule, conversation_id=conversation.pk) is None
    assert len(replies(conversation)) == 1
    assert Activity.objects.filter(conversation=conversation, verb=CANNED_VERB).count() == 1


def test_no_canned_reply_to_an_automated_conversation(mail, rule):
    rule.conditions = {"keywords": ["refund"], "automated": True}
    rule.save()
    conversation = arrive(mail, "Out of office: refund questions to Bob", auto_kind="auto_reply")
    assert conversation.status == Status.AUTOMATED
    assert replies(conversation) == []
    assert send_rule_canned_reply(rule=rule, conversation_id=conversation.pk) is None
    assert not Activity.objects.filter(verb=CANNED_VERB).exists()


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("ann@example.com", {"List-Id": "<refunds.lists.example>"}),
        ("ann@example.com", {"Auto-Submitted": "auto-replied"}),
        ("mailer-daemon@example.com", {}),
        ("help@ours.example", {}),
    ],
)
def test_no_canned_reply_to_list_mail_auto_replies_bounces_or_ourselves(
    mail, rule, sender, headers
):
    conversation = arrive(mail, "About a refund", sender=sender, headers=headers)
    assert replies(conversation) == []
    assert not Activity.objects.filter(verb=CANNED_VERB).exists()
