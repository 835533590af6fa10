import factory

from inbox.models import Severity
from routing.models import SLAPolicy


class SLAPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"Policy {n}")
    severity = Severity.NORMAL
    first_response_minutes = 60
    next_response_minutes = 120
    resolution_minutes = 24 * 60
