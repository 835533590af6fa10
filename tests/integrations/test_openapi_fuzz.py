"""Schemathesis over the whole OpenAPI schema, in-process through the WSGI app, as an admin:
no request it can generate gets a 5xx, and every response matches the schema.

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
)

from accounts.services import create_api_token

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
    settings.API_THROTTLE_RATES = {k: "100000/min" for k in settings.API_THROTTLE_RATES}
    return create_api_token(user=admin_user, name="fuzz")[1]


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_the_api_never_fails_and_matches_its_schema(case, admin_key):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_key}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
