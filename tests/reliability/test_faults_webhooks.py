"""Faults at the webhook door, against the real web server and worker processes: the same provider
event delivered twice (one after the other and at the same instant), and the database going away
while a provider delivers."""

import threading
import time

import httpx
import pytest

from inbox.intake.queue import requeue_unprocessed
from inbox.models import InboundEvent, Message
from tests.reliability.conftest import api_body, post_api
from tests.support.faultstack import FaultStack, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(60)]

SETTLED = (InboundEvent.Status.PROCESSED, InboundEvent.Status.DUPLICATE)


def all_settled(count: int):
    def check():
        events = list(InboundEvent.objects.values_list("status", flat=True))
        return len(events) == count and all(s in SETTLED for s in events)

    return check


def test_the_same_event_delivered_twice_and_concurrently_makes_one_message(stack, api_channel):
    stack.start_worker()  # starts in the background while the web server boots
    stack.start_web()
    body = api_body("evt-dup-1")

    first = post_api(stack.base_url, body)
    again = post_api(stack.base_url, body)
    assert first.status_code == 202 and again.status_code == 202

    # Four deliveries of another event released at the same instant from four threads.
    concurrent = api_body("evt-dup-2", text="Second question")
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver():
        barrier.wait(timeout=5)
        statuses.append(post_api(stack.base_url, concurrent).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert statuses == [202] * 4

    wait_for(all_settled(6), message="the worker did not process the six deliveries")
    assert Message.objects.filter(channel=api_channel, external_id="evt-dup-1").count() == 1
    assert Message.objects.filter(channel=api_channel, external_id="evt-dup-2").count() == 1
    statuses_by_event = sorted(InboundEvent.objects.values_list("status", flat=True))
    assert statuses_by_event.count(InboundEvent.Status.PROCESSED) == 2
    assert statuses_by_event.count(InboundEvent.Status.DUPLICATE) == 4


def test_database_down_answers_503_and_the_retried_delivery_makes_one_message(stack, api_channel):
    stack.start_worker()  # starts in the background while the web server boots
    stack.start_web()
    body = api_body("evt-outage")

    stack.db_proxy.cut()
    refused = [post_api(stack.base_url, body) for _ in range(2)]
    for response in refused:
        # Never a 2xx: the provider must keep the event and retry.
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "unavailable"
    stack.db_proxy.restore()
    assert InboundEvent.objects.count() == 0

    # The provider retries after the outage; the server recovers without a restart.
    retried = wait_for(
        lambda: (r := post_api(stack.base_url, body)).status_code == 202 and r,
        timeout=15,
        interval=0.5,
        message="the web server did not recover after the database came back",
    )
    assert retried.status_code == 202
    wait_for(all_settled(1), message="the retried delivery was not processed")
    assert Message.objects.filter(channel=api_channel, external_id="evt-outage").count() == 1


def test_database_cut_mid_request_never_answers_2xx_without_storing(stack, api_channel, broker):
    """Connections dropped while requests are in flight: every delivery answered 2xx is stored
    and becomes a message; the others were told 5xx and are retried by the provider."""
    stack.start_worker()  # starts in the background while the web server boots
    stack.start_web()
    answers: dict[str, int] = {}

    def deliver(i: int):
        try:
            answers[f"evt-race-{i}"] = post_api(
                stack.base_url, api_body(f"evt-race-{i}")
            ).status_code
        except httpx.HTTPError:
            answers[f"evt-race-{i}"] = 0

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(12)]
    for i, thread in enumerate(threads):
        thread.start()
        if i == 5:
            stack.db_proxy.cut()
    for thread in threads:
        thread.join(timeout=20)
    stack.db_proxy.restore()

    assert set(answers.values()) <= {202, 503, 0}
    refused = [k for k, status in answers.items() if status != 202]
    for event_id in refused:  # the provider retries what was not acknowledged
        wait_for(
            lambda e=event_id: post_api(stack.base_url, api_body(e)).status_code == 202,
            interval=0.5,
        )

    def drained():
        # What a worker was processing when the database went away waits for the re-queue
        # sweep (celery beat); run that sweep now instead of waiting for its schedule.
        requeue_unprocessed(older_than_seconds=0)
        return all_settled(InboundEvent.objects.count())()

    wait_for(drained, interval=1, message="not every stored delivery was processed")
    assert Message.objects.filter(channel=api_channel).count() == 12
    assert set(Message.objects.values_list("external_id", flat=True)) == set(answers)


# The Django view serves webhooks with the accept door off (and always Twilio's).
DOORS = {"accept door": {}, "django door": {"INBOUND_ASGI_DOOR": "false"}}


@pytest.fixture(params=list(DOORS))
def door_stack(request, transactional_db, tmp_path):
    """The web server alone (no worker), with one door or the other serving the webhooks."""
    running = FaultStack(data_dir=tmp_path / "stack", extra_env=DOORS[request.param])
    yield running
    running.stop()


def timed_post(base_url: str, body: bytes) -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        response = post_api(base_url, body, timeout=8)
    except httpx.TimeoutException:
        return 0, {}, time.monotonic() - started
    return response.status_code, response.json(), time.monotonic() - started


def test_a_database_that_does_not_answer_gets_503_within_2_s_and_the_retry_is_stored_once(
    door_stack, api_channel
):
    """Slack waits 3 s for an answer, GitHub 10 s: a provider must hear 503 (and retry) before it
    gives up, whether PostgreSQL hangs (connections accepted, never answered: the hard case, no
    error ever comes back) or is gone (nothing listens)."""
    door_stack.start_web()
    base_url = door_stack.base_url
    # A delivery first: the pool holds open connections and the door its copy of the channels.
    assert post_api(base_url, api_body("evt-before")).status_code == 202
    body = api_body("evt-hung-database")

    door_stack.db_proxy.black_hole()
    # The open connection falls silent, then new ones are swallowed by the hole.
    for _ in range(3):
        status, payload, took = timed_post(base_url, body)
        assert (status, payload.get("code")) == (503, "unavailable"), (status, took)
        assert took < 2, f"503 after {took:.2f} s"

    door_stack.db_proxy.cut()
    for _ in range(2):
        status, payload, took = timed_post(base_url, body)
        assert (status, payload.get("code")) == (503, "unavailable"), (status, took)
        assert took < 2, f"503 after {took:.2f} s"

    door_stack.db_proxy.restore()
    wait_for(
        lambda: post_api(base_url, body).status_code == 202,
        timeout=15,
        interval=0.5,
        message="the door did not accept the delivery after the database came back",
    )
    stored = sorted(bytes(b) for b in InboundEvent.objects.values_list("body", flat=True))
    assert stored == sorted([api_body("evt-before"), body])
