"""Schemathesis over the whole OpenAPI schema, in-process through the WSGI app, as an admin, on a
small inbox (conversations with and without a team or assignee, messages, activity by the
system, a tag, a saved view): no request it can generate gets a 5xx, and every response matches
the schema: a documented status code, the documented content type, the documented shape. Path
ids point at those rows, so operations answer with data rather than 404. Bounded: a few examples
per operation, derandomized, about a minute in all.

Left out: POST /api/v1/webhook-endpoints/, the one operation that would store a URL the fuzzer
made up and then connect to it (outbound traffic to arbitrary hosts); tests/integrations/
test_api.py and test_ssrf.py cover it. With no endpoint stored, the other webhook operations
answer without sending anything.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import create_api_token
from inbox.models import SavedView
from tagging.models import Tag
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import (
    ActivityFactory,
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application()).exclude(
    path="/api/v1/webhook-endpoints/", method="POST"
)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Like Django's test client: a request must not close the connection holding the test's
    transaction (the WSGI app closes old connections when a request finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_key(admin_user, settings):
    # No limits, and no counters left behind: a later test's token or user may get the same id.
    settings.API_THROTTLE_RATES = {k: None for k in settings.API_THROTTLE_RATES}
    return create_api_token(user=admin_user, name="fuzz")[1]


@pytest.fixture
def inbox(admin_user):
    """Rows for the path ids: the first conversation has a team and an assignee, the second
    neither (nulls the schema must allow)."""
    team = TeamFactory(slug="support")
    agent = AgentFactory(username="ada")
    channel = ChannelFactory(slug="mail", default_team=team)
    assigned = ConversationFactory(channel=channel, team=team, assignee=agent)
    unassigned = ConversationFactory(channel=ChannelFactory(slug="chat", default_team=None))
    assert unassigned.team is None
    message = MessageFactory(conversation=assigned)
    MessageFactory(conversation=unassigned)
    ActivityFactory(conversation=assigned)  # by the system: no actor
    tag = Tag.objects.create(slug="billing", name="Billing")
    assigned.tags.add(tag)
    view = SavedView.objects.create(name="Mine", owner=admin_user, filters={"status": ["open"]})
    return {
        "/api/v1/conversations/": assigned.pk,
        "/api/v1/contacts/": assigned.contact_id,
        "/api/v1/messages/": message.pk,
        "/api/v1/views/": view.pk,
        "slug": tag.slug,
    }


def point_at_rows(case, rows: dict) -> None:
    """Path ids and slugs of rows that exist (the fuzzer's own numbers are mostly 404s)."""
    params = case.path_parameters or {}
    if "id" in params:
        for prefix, pk in rows.items():
            if case.path.startswith(prefix):
                params["id"] = pk
    if "slug" in params:
        params["slug"] = rows["slug"]


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_the_api_never_fails_and_matches_its_schema(case, admin_key, inbox):
    point_at_rows(case, inbox)
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_key}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
