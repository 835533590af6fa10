"""The login lockout and the password reset limit, as an attacker meets them: every way to log in
(the app's /login/, /admin/login/) counts failures per account across addresses, refuses a
locked account even with the right password, and reset requests are limited per address and IP.
Counted in the real cache (Redis in the PostgreSQL+Redis pass)."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from tests.accounts.factories import AdminFactory, AgentFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-1"


@pytest.fixture(autouse=True)
def rates(settings):
    cache.clear()
    settings.API_THROTTLE_RATES = {
        **settings.API_THROTTLE_RATES,
        "login": "100/min",
        "login_failures": "3/h",
        "password_reset": "2/h",
    }
    yield settings.API_THROTTLE_RATES
    cache.clear()


@pytest.fixture
def boss(db):
    user = AdminFactory(username="boss", email="boss@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(path, username, password, ip="192.0.2.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(path, {"username": username, "password": password})
    return response, client


def signed_in(client):
    return "_auth_user_id" in client.session


def test_the_admin_login_locks_after_the_failures_even_for_the_right_password(boss):
    for n in range(3):
        response, _ = attempt("/admin/login/", "boss", f"guess-{n}")
        assert response.status_code == 200  # the form again
    response, client = attempt("/admin/login/", "boss", PASSWORD)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["code"] == "rate_limited"
    assert not signed_in(client)


def test_failures_on_either_login_page_count_against_the_same_account(boss):
    attempt("/login/", "boss", "guess-1")
    attempt("/admin/login/", "boss", "guess-2")
    attempt("/login/", "boss", "guess-3")
    for path in ("/login/", "/admin/login/"):
        response, client = attempt(path, "boss", PASSWORD)
        assert response.status_code == 429 and not signed_in(client), path


def test_a_locked_account_stays_locked_from_every_other_address(boss):
    for n in range(3):
        attempt("/admin/login/", "boss", f"guess-{n}", ip=f"198.51.100.{n}")
    for ip in ("203.0.113.9", "2001:db8::1"):
        response, client = attempt("/admin/login/", "boss", PASSWORD, ip=ip)
        assert response.status_code == 429 and not signed_in(client), ip


def test_a_locked_attempt_answers_the_same_for_a_right_and_a_wrong_password(boss):
    for n in range(3):
        attempt("/login/", "boss", f"guess-{n}")
    right, _ = attempt("/login/", "boss", PASSWORD, ip="203.0.113.5")
    wrong, _ = attempt("/login/", "boss", "guess-4", ip="203.0.113.6")
    assert (right.status_code, right.json()["code"]) == (wrong.status_code, wrong.json()["code"])
    assert right.status_code == 429
    assert set(right.headers) == set(wrong.headers)


def test_an_unknown_username_locks_like_a_real_one(boss):
    """Otherwise a guesser would learn which accounts exist from which ones never lock."""
    for n in range(3):
        assert attempt("/login/", "nobody", f"guess-{n}")[0].status_code == 200
    assert attempt("/login/", "nobody", "guess-4")[0].status_code == 429


def test_other_accounts_still_log_in_while_one_is_locked(boss):
    other = AgentFactory(username="carol")
    other.set_password(PASSWORD)
    other.save()
    for n in range(3):
        attempt("/login/", "boss", f"guess-{n}")
    response, client = attempt("/login/", "carol", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_a_successful_login_clears_the_owners_earlier_typos(boss):
    for n in range(2):
        attempt("/login/", "boss", f"typo-{n}")
    assert attempt("/login/", "boss", PASSWORD)[0].status_code == 302
    for n in range(2):
        attempt("/login/", "boss", f"typo-again-{n}")
    response, client = attempt("/login/", "boss", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_an_operator_lifts_a_lockout_with_unlock_login(boss):
    for n in range(3):
        attempt("/login/", "boss", f"guess-{n}")
    assert attempt("/login/", "boss", PASSWORD)[0].status_code == 429
    call_command("unlock_login", "boss")
    response, client = attempt("/login/", "boss", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_login_attempts_per_address_are_limited_on_the_admin_login_too(boss, rates):
    rates["login"] = "2/min"
    for n in range(2):
        assert attempt("/admin/login/", f"user{n}", "guess")[0].status_code == 200
    response, client = attempt("/admin/login/", "boss", PASSWORD)
    assert response.status_code == 429 and not signed_in(client)
    assert attempt("/admin/login/", "boss", PASSWORD, ip="192.0.2.99")[0].status_code == 302


def test_password_reset_requests_are_limited_per_email_address(boss):
    codes = [
        Client(REMOTE_ADDR=f"198.51.100.{n}")
        .post("/password-reset/", {"email": "boss@example.com"})
        .status_code
        for n in range(4)
    ]
    assert codes == [302, 302, 429, 429]
    assert len(mail.outbox) == 2


def test_password_reset_requests_are_limited_per_ip(boss):
    client = Client(REMOTE_ADDR="198.51.100.1")
    codes = [
        client.post("/password-reset/", {"email": f"someone{n}@example.com"}).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    limited = client.post("/password-reset/", {"email": "boss@example.com"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert mail.outbox == []  # the someone addresses have no account; boss was refused
    other = Client(REMOTE_ADDR="198.51.100.2").post(
        "/password-reset/", {"email": "boss@example.com"}
    )
    assert other.status_code == 302 and len(mail.outbox) == 1


@pytest.mark.redis
def test_the_lockout_is_counted_in_redis_so_every_process_shares_it(boss):
    from core.cache import SharedPoolRedisCache, shared

    assert isinstance(shared(), SharedPoolRedisCache)
    for n in range(3):
        attempt("/admin/login/", "boss", f"guess-{n}", ip=f"198.51.100.{n}")
    response, client = attempt("/login/", "boss", PASSWORD, ip="203.0.113.9")
    assert response.status_code == 429 and not signed_in(client)


def test_with_the_cache_unreachable_logins_fail_open(boss, cache_unreachable):
    assert attempt("/admin/login/", "boss", "guess")[0].status_code == 200
    response, client = attempt("/admin/login/", "boss", PASSWORD)
    assert response.status_code == 302 and signed_in(client)


def test_attempts_still_checking_their_password_already_count(boss):
    """A burst: attempts that passed the gate and are still checking their passwords take their
    places in the window, so one more attempt, even with the right password, is refused. (When
    failures were counted only after the check, every attempt of a burst got through.)"""
    from accounts.lockout import login_refused_for

    in_flight = [login_refused_for(None, "boss") for _ in range(3)]
    assert in_flight == [None, None, None]
    response, client = attempt("/login/", "boss", PASSWORD, ip="198.51.100.7")
    assert response.status_code == 429
    assert not signed_in(client)
