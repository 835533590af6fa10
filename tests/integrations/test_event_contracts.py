"""Events published by the product match the webhook schemas integrations documents."""

import datetime as dt

import jsonschema
import pytest
import time_machine

from inbox.contacts import merge_contacts
from inbox.models import Event
from integrations.schemas import body_for, json_schema
from routing.models import SLAPolicy
from routing.sla_sweep import sweep
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def assert_documented(event_type):
    events = list(Event.objects.filter(type=event_type))
    assert events, f"no {event_type} published"
    for event in events:
        jsonschema.validate(body_for(event), json_schema(event_type))


def test_contact_merged_matches_its_schema(admin_user):
    source, target = ContactFactory(), ContactFactory()
    ConversationFactory(contact=source)
    merge_contacts(source_id=source.pk, target_id=target.pk, actor=admin_user)
    assert_documented("contact.merged")


def test_sla_breached_matches_its_schema():
    from inbox.intake.receive import receive_message
    from inbox.normalized import NormalizedMessage, SenderRef

    SLAPolicy.objects.filter(severity=2).update(first_response_minutes=60)
    start = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        receive_message(
            channel=ChannelFactory(),
            message=NormalizedMessage(
                channel_kind="email",
                external_id="x@y",
                thread_key=None,
                sender=SenderRef(
                    kind="email", id="a@example.com", email="a@example.com", verified=True
                ),
                text="hello",
                html=None,
                attachments=(),
                sent_at=start,
            ),
        )
    with time_machine.travel(start + dt.timedelta(hours=9), tick=False):
        sweep()
    assert_documented("sla.breached")
