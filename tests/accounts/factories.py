import factory

from accounts.models import ApiToken, Membership, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.LazyAttribute(lambda o: o.username.title())
    role = User.Role.AGENT
    availability = User.Availability.ONLINE
    password = factory.django.Password("demo")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        for team in extracted or []:
            Membership.objects.get_or_create(
                user=self,
                team=team,
                defaults={
                    "role": Membership.Role.LEAD
                    if self.role == User.Role.LEAD
                    else Membership.Role.MEMBER
                },
            )


class AgentFactory(UserFactory):
    role = User.Role.AGENT


class LeadFactory(UserFactory):
    role = User.Role.LEAD


class AdminFactory(UserFactory):
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True


class ViewerFactory(UserFactory):
    role = User.Role.VIEWER


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(AgentFactory)
    team = factory.SubFactory(TeamFactory)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    class Params:
        key = factory.Sequence(lambda n: f"test-key-{n:032d}")

    user = factory.SubFactory(AgentFactory)
    name = "test"
    key_hash = factory.LazyAttribute(lambda o: ApiToken.hash_key(o.key))
    prefix = factory.LazyAttribute(lambda o: o.key[:8])
    scopes = factory.LazyFunction(lambda: ["read", "write"])
