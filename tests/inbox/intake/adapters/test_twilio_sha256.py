"""Twilio's newer signing (issue 21): when a Webhooks Rule matches the URL, Twilio signs the
same string (the URL, then the sorted POST parameters) with the rule's SharedKey and the
algorithm named in X-Twilio-Webhooks-Signature-Settings (HMAC_SHA256), beside the classic
HMAC-SHA1 with the auth token. The signatures here are computed independently, as Twilio's
documentation describes them."""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import provider_client

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "twilio-auth-token"
SHARED_KEY = "shared-key-secret-of-the-rule"
SMS = {"MessageSid": "SM5", "From": "+15551230000", "To": "+15005550006", "Body": "hello"}
URL = "http://testserver/webhooks/twilio/sms/"


def signature(key: str, digest) -> str:
    signed = URL + "".join(name + SMS[name] for name in sorted(SMS))
    return base64.b64encode(hmac.new(key.encode(), signed.encode(), digest).digest()).decode()


@pytest.fixture
def channel(team):
    return ChannelFactory(
        slug="sms",
        kind="twilio",
        secret=AUTH_TOKEN,
        default_team=team,
        config={"webhook_shared_key": SHARED_KEY},
    )


def post(signature_value: str, settings_header: str | None):
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature_value}
    if settings_header is not None:
        headers["HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS"] = settings_header
    return provider_client().post(
        "/webhooks/twilio/sms/",
        data=urlencode(SMS).encode(),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def test_an_hmac_sha256_signature_with_the_shared_key_is_accepted(
    channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(signature(SHARED_KEY, hashlib.sha256), "key=KS123,algorithm=HMAC_SHA256")
    assert response.status_code == 200, response.content
    assert Message.objects.get().text == "hello"


def test_the_classic_hmac_sha1_with_the_auth_token_still_works(
    channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(signature(AUTH_TOKEN, hashlib.sha1), None)
    assert response.status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "value, header",
    [
        # The header names SHA-256, but the signature is another key's or another algorithm's.
        (lambda: signature("another-key", hashlib.sha256), "key=KS1,algorithm=HMAC_SHA256"),
        (lambda: signature(SHARED_KEY, hashlib.sha1), "key=KS1,algorithm=HMAC_SHA256"),
        # An algorithm we do not know is refused, never guessed at.
        (lambda: signature(SHARED_KEY, hashlib.sha512), "key=KS1,algorithm=HMAC_SHA512"),
        # Without the header Twilio signs with SHA-1 and the auth token only.
        (lambda: signature(SHARED_KEY, hashlib.sha256), None),
    ],
)
def test_a_wrong_signature_is_401_and_stores_nothing(channel, value, header):
    response = post(value(), header)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists()
