"""The mail that tells admins an endpoint was switched off: one per language, each in the
admins' own."""

import pytest

from integrations.delivery import disable_endpoint
from integrations.models import WebhookEndpoint
from tests.accounts.factories import AdminFactory

pytestmark = pytest.mark.django_db


def test_admins_get_the_disabled_endpoint_mail_in_their_own_language(
    mailoutbox, django_capture_on_commit_callbacks
):
    AdminFactory(username="wati", language="id")
    AdminFactory(username="jane", language="en")
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in", secret="s" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        assert disable_endpoint(endpoint_id=endpoint.pk, reason="HTTP 410 Gone")
    mails = {m.to[0]: m for m in mailoutbox}
    assert sorted(mails) == ["jane@example.com", "wati@example.com"]
    indonesian, english = mails["wati@example.com"], mails["jane@example.com"]
    assert indonesian.subject == "Endpoint webhook dinonaktifkan: https://hooks.example.com/in"
    assert "Switchboard berhenti mengirim webhook ke https://hooks.example.com/in." in (
        indonesian.body
    )
    assert "Penyebab: HTTP 410 Gone" in indonesian.body
    assert english.subject == "Webhook endpoint disabled: https://hooks.example.com/in"
    assert "Why: HTTP 410 Gone" in english.body
