import factory

from tagging.models import ConversationTag, Tag
from tests.inbox.factories import ConversationFactory


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tag-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class ConversationTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConversationTag

    conversation = factory.SubFactory(ConversationFactory)
    tag = factory.SubFactory(TagFactory)
