"""Rate limits: per token, per user, per IP for anonymous requests and login, per (channel, IP)
for inbound webhooks. Over the limit: 429 with Retry-After; others are not affected."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import create_api_token
from inbox.intake.adapters.api import sign
from inbox.models import InboundEvent
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


# The limits count in fixed windows of the clock (core.ratelimit): each test starts just after a
# minute begins, so its requests never straddle two windows (where the count starts again).
WINDOW_START = dt.datetime(2026, 3, 2, 9, 0, 0, 100000, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def tight_rates(settings):
    cache.clear()
    settings.API_THROTTLE_RATES = {
        "token": "3/min",
        "user": "3/min",
        "anon": "2/min",
        "login": "2/min",
        "inbound": "2/min",
    }
    with time_machine.travel(WINDOW_START, tick=True):
        yield
    cache.clear()


def token_client(user):
    _, key = create_api_token(user=user, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_over_its_rate_gets_429_with_retry_after_and_another_token_does_not(agent):
    first, second = token_client(agent), token_client(agent)
    codes = [first.get("/api/v1/users/me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = first.get("/api/v1/users/me/")
    assert int(limited["Retry-After"]) > 0 and "throttled" in limited.json()["detail"].lower()
    assert second.get("/api/v1/users/me/").status_code == 200


def test_a_signed_in_user_over_their_rate_gets_429(client_for, agent, lead):
    client = client_for(agent)
    codes = [client.get("/api/v1/users/me/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client_for(lead).get("/api/v1/users/me/").status_code == 200


def test_unauthenticated_api_requests_are_limited_per_ip():
    client = APIClient()
    codes = [client.get("/api/v1/teams/").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    guessed = APIClient(HTTP_AUTHORIZATION="Token guessed-0000")
    limited = guessed.get("/api/v1/teams/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    other_ip = APIClient(REMOTE_ADDR="192.0.2.7")
    assert other_ip.get("/api/v1/teams/").status_code == 401


def test_login_attempts_are_limited_per_ip(agent):
    client = Client()
    for _ in range(2):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_inbound_webhooks_are_limited_per_channel_and_ip(client):
    ChannelFactory(slug="partner", kind="api", secret="s")
    ChannelFactory(slug="other", kind="api", secret="s")
    body = b'{"id": "e1", "sender": {"id": "u1"}, "text": "hi"}'

    def post(slug):
        return client.post(
            f"/webhooks/api/{slug}/",
            data=body,
            content_type="application/json",
            HTTP_X_SIGNATURE=sign("s", body),
        )

    assert [post("partner").status_code for _ in range(2)] == [202, 202]
    limited = post("partner")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    assert post("other").status_code == 202
    assert InboundEvent.objects.filter(channel__slug="partner").count() == 2


def bad_token_burst(ip):
    guesser = APIClient(REMOTE_ADDR=ip, HTTP_AUTHORIZATION="Token guessed-0000")
    return [guesser.get("/api/v1/users/me/").status_code for _ in range(3)]


def test_a_burst_of_bad_tokens_is_limited_but_a_valid_token_from_that_address_is_not(agent):
    assert bad_token_burst("192.0.2.50") == [401, 401, 429]
    _, key = create_api_token(user=agent, name="t")
    valid = APIClient(REMOTE_ADDR="192.0.2.50", HTTP_AUTHORIZATION=f"Token {key}")
    response = valid.get("/api/v1/users/me/")
    assert response.status_code == 200 and response.json()["username"] == "alice"
    assert bad_token_burst("192.0.2.50")[-1] == 429  # the guesser is still limited


def test_a_burst_of_bad_tokens_does_not_limit_a_signed_in_session_from_that_address(agent):
    assert bad_token_burst("192.0.2.51") == [401, 401, 429]
    browser = Client(REMOTE_ADDR="192.0.2.51")
    browser.force_login(agent)
    assert browser.get("/api/v1/users/me/").status_code == 200
    assert browser.get("/inbox/").status_code == 200


@pytest.mark.redis
def test_failed_auth_limits_counted_in_redis_spare_authenticated_requests(agent):
    from core.cache import SharedPoolRedisCache, shared

    assert isinstance(shared(), SharedPoolRedisCache)
    assert bad_token_burst("192.0.2.52") == [401, 401, 429]
    _, key = create_api_token(user=agent, name="t")
    valid = APIClient(REMOTE_ADDR="192.0.2.52", HTTP_AUTHORIZATION=f"Token {key}")
    assert valid.get("/api/v1/users/me/").status_code == 200


def test_a_token_over_its_rate_waits_until_its_window_ends_and_is_then_served(agent):
    client = token_client(agent)
    with time_machine.travel(WINDOW_START + dt.timedelta(seconds=10), tick=False):
        assert [client.get("/api/v1/users/me/").status_code for _ in range(4)][-1] == 429
        wait = int(client.get("/api/v1/users/me/")["Retry-After"])
    assert wait == 50  # the window ends at 09:01:00, not a minute after the last request
    with time_machine.travel(WINDOW_START + dt.timedelta(seconds=60), tick=False):
        assert client.get("/api/v1/users/me/").status_code == 200


def test_with_the_cache_unreachable_api_requests_are_served(agent, cache_unreachable):
    """No counter to read: every request goes through (core.ratelimit.over_rate fails open)."""
    client = token_client(agent)
    assert [client.get("/api/v1/users/me/").status_code for _ in range(5)] == [200] * 5
    assert bad_token_burst("192.0.2.53") == [401, 401, 401]
