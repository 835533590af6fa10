import datetime as dt

import factory
from django.utils import timezone

from inbox.models import (
    Activity,
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Event,
    InboundEvent,
    Message,
)
from tests.accounts.factories import TeamFactory


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("slug",)

    kind = Channel.Kind.EMAIL
    slug = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.LazyAttribute(lambda o: f"Channel {o.slug}")
    secret = "test-secret"
    address = factory.LazyAttribute(
        lambda o: f"{o.slug}@support.example.com" if o.kind == "email" else ""
    )
    default_team = factory.SubFactory(TeamFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class ContactIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactIdentity

    contact = factory.SubFactory(ContactFactory)
    kind = "email"
    external_id = factory.LazyAttribute(lambda o: o.contact.email)
    verified = True


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    channel = factory.SubFactory(ChannelFactory)
    contact = factory.SubFactory(ContactFactory)
    subject = factory.Sequence(lambda n: f"Question {n}")
    team = factory.LazyAttribute(lambda o: o.channel.default_team)
    created_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.LazyAttribute(lambda o: o.created_at)
    last_inbound_at = factory.LazyAttribute(lambda o: o.created_at)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    channel = factory.LazyAttribute(lambda o: o.conversation.channel)
    direction = Message.Direction.IN
    kind = Message.Kind.MESSAGE
    sender_contact = factory.LazyAttribute(lambda o: o.conversation.contact)
    text = factory.Faker("sentence")
    external_id = factory.Sequence(lambda n: f"<msg-{n}@example.com>")
    created_at = factory.LazyFunction(timezone.now)


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    message = factory.SubFactory(MessageFactory)
    file = factory.django.FileField(data=b"hello", filename="ignored.txt")
    name = "notes.txt"
    content_type = "text/plain"
    size = 5


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    conversation = factory.SubFactory(ConversationFactory)
    verb = "status"
    from_value = "open"
    to_value = "resolved"
    created_at = factory.LazyFunction(timezone.now)


class InboundEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundEvent

    channel = factory.SubFactory(ChannelFactory)
    provider = "email"
    body = b"From: a@example.com\r\n\r\nhello"
    received_at = factory.LazyFunction(timezone.now)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    type = "conversation.created"
    payload = factory.LazyFunction(dict)
    created_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=5))
