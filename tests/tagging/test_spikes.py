"""Incident spike alerts (tagging.spikes): raised once for a burst, never for the same count
spread over a day nor for a quiet night's few, measured against the same hour of past weeks;
the alert reaches the bell, mail and webhooks of leads and admins."""

import datetime as dt

import jsonschema
import pytest
import time_machine
from django.utils import timezone

from inbox.models import Event, Message
from integrations import schemas, signing
from integrations.services import endpoint_create
from routing.models import Notification
from tagging.models import SpikeAlert, SpikeAlertConversation, Tag, WatchWord
from tagging.spikes import check_spikes
from tests.inbox.factories import ConversationFactory, MessageFactory
from tests.tagging.factories import ConversationTagFactory

pytestmark = pytest.mark.django_db

# A Tuesday, 14:00 UTC.
NOW = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _spike_settings(settings):
    settings.SPIKE_TAGS = ["incident"]
    settings.SPIKE = {"WINDOW_MINUTES": 60, "BASELINE_WEEKS": 4, "MIN_COUNT": 5, "FACTOR": 3.0}


@pytest.fixture
def incident_tag():
    return Tag.objects.get(slug="incident")


def incident(at, tag, *, text="Everything is down", channel=None):
    """A conversation whose customer wrote at `at`, tagged incident."""
    extra = {"channel": channel} if channel else {}
    conversation = ConversationFactory(created_at=at, **extra)
    MessageFactory(conversation=conversation, created_at=at, text=text)
    if tag is not None:
        ConversationTagFactory(conversation=conversation, tag=tag)
    return conversation


def check_at(when, capture=None):
    with time_machine.travel(when, tick=False):
        if capture is None:
            return check_spikes()
        with capture(execute=True):
            return check_spikes()


def test_a_burst_raises_one_alert_with_webhook_bell_and_mail(
    incident_tag,
    lead,
    agent,
    admin_user,
    http_server,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint, _ = endpoint_create(
        actor=admin_user,
        url=f"{http_server.url}/hooks",
        event_types=["alert.spike"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    burst = [incident(NOW - dt.timedelta(minutes=m), incident_tag) for m in range(1, 9)]

    raised = check_at(NOW, django_capture_on_commit_callbacks)
    # More of the same spike a minute later: the open alert gathers them, nothing new is sent.
    later = [incident(NOW + dt.timedelta(seconds=s), incident_tag) for s in (10, 20, 30)]
    assert check_at(NOW + dt.timedelta(minutes=1), django_capture_on_commit_callbacks) == []

    [alert] = SpikeAlert.objects.all()
    assert raised == [alert]
    assert (alert.kind, alert.watch, alert.count, alert.baseline) == ("tag", "incident", 8, 0.0)
    assert alert.peak == 11 and alert.is_open
    assert alert.samples == [c.pk for c in burst]  # newest first
    members = set(SpikeAlertConversation.objects.values_list("conversation_id", flat=True))
    assert members == {c.pk for c in burst + later}

    [request] = http_server.requests  # delivered once, signed
    assert signing.verify(endpoint.secret, headers=request.headers, body=request.body)
    body = request.json()
    jsonschema.validate(body, schemas.json_schema("alert.spike"))
    assert body["type"] == "alert.spike"
    assert body["data"]["count"] == 8 and body["data"]["baseline"] == 0.0
    assert body["data"]["conversations"] == [c.pk for c in burst]

    notified = Notification.objects.filter(kind="spike", alert=alert)
    assert {n.recipient.username for n in notified} == {"lead", "admin"}  # not the agent
    assert all(n.conversation_id is None and n.mailed_at for n in notified)
    assert "8 conversations tagged incident in 60 minutes (usually 0)." in notified[0].text
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@example.com", "lead@example.com"]
    assert f"/inbox/?alert={alert.pk}&status=any" in mailoutbox[0].body
    assert Event.objects.filter(type="alert.spike").count() == 1


def test_the_same_count_spread_over_a_day_raises_none(incident_tag):
    start = NOW - dt.timedelta(days=1)
    for i in range(11):  # the burst's eleven, one every two hours and a bit
        at = start + dt.timedelta(minutes=131 * i)
        incident(at, incident_tag)
        check_at(at + dt.timedelta(seconds=1))
    check_at(NOW)
    assert SpikeAlert.objects.count() == 0


def test_a_quiet_night_below_the_minimum_raises_none_whatever_the_ratio(incident_tag):
    night = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)  # Sunday 03:00, never anything before
    for m in range(4):
        incident(night - dt.timedelta(minutes=m), incident_tag)
    assert check_at(night) == []
    incident(night, incident_tag)  # the fifth reaches SPIKE_MIN_COUNT
    assert len(check_at(night + dt.timedelta(minutes=1))) == 1


def test_the_usual_rate_for_that_hour_of_the_week_is_the_baseline(incident_tag):
    for week in range(1, 5):  # ten every week at this hour: a busy Tuesday afternoon
        for m in range(10):
            incident(NOW - dt.timedelta(weeks=week, minutes=5 + m), incident_tag)
    for m in range(12):  # a day earlier at this hour it was quiet: that is not the baseline
        incident(NOW - dt.timedelta(minutes=1 + m * 4), incident_tag)
    assert check_at(NOW) == []  # twelve against a usual ten
    for m in range(20):
        incident(NOW + dt.timedelta(seconds=m), incident_tag)
    [alert] = check_at(NOW + dt.timedelta(minutes=1))
    assert (alert.count, alert.baseline, alert.threshold) == (32, 10.0, 30.0)


def test_one_past_incident_at_that_hour_does_not_hide_the_next(incident_tag):
    for m in range(40):  # one bad Tuesday three weeks ago
        incident(NOW - dt.timedelta(weeks=3, minutes=m), incident_tag)
    for m in range(6):
        incident(NOW - dt.timedelta(minutes=m), incident_tag)
    [alert] = check_at(NOW)
    assert alert.baseline == 0.0  # the median of 0, 40, 0, 0


def test_the_spike_stays_open_until_the_rate_falls_back_then_a_new_one_may_fire(incident_tag):
    for m in range(6):
        incident(NOW - dt.timedelta(minutes=m), incident_tag)
    [first] = check_at(NOW)
    incident(NOW + dt.timedelta(minutes=30), incident_tag)
    assert check_at(NOW + dt.timedelta(minutes=50)) == []  # 7 in the window: still open
    first.refresh_from_db()
    assert first.is_open
    # An hour later only the one at +30 minutes is in the window: below half the threshold.
    assert check_at(NOW + dt.timedelta(minutes=75)) == []
    first.refresh_from_db()
    assert first.closed_at == NOW + dt.timedelta(minutes=75)
    second_burst = NOW + dt.timedelta(hours=5)
    for m in range(6):
        incident(second_burst - dt.timedelta(minutes=m), incident_tag)
    [second] = check_at(second_burst)
    assert second.pk != first.pk and SpikeAlert.objects.filter(closed_at__isnull=True).count() == 1


def test_notes_replies_and_untagged_conversations_are_not_counted(incident_tag):
    for m in range(6):
        conversation = incident(NOW - dt.timedelta(minutes=m), None)  # not tagged
        ConversationTagFactory(conversation=conversation, tag=Tag.objects.get(slug="ugc"))
    tagged = incident(NOW - dt.timedelta(minutes=10), incident_tag)
    for m in range(6):  # one customer writing six times is one conversation
        MessageFactory(conversation=tagged, created_at=NOW - dt.timedelta(minutes=m))
        MessageFactory(
            conversation=tagged,
            created_at=NOW - dt.timedelta(minutes=m),
            direction=Message.Direction.OUT,
        )
    assert check_at(NOW) == []


def test_a_watch_word_raises_its_own_alert(incident_tag):
    WatchWord.objects.create(word="outage")
    for m in range(5):
        incident(NOW - dt.timedelta(minutes=m), None, text=f"Big OUTAGE in region {m}!")
    for m in range(5):  # a longer word containing it is another word
        incident(NOW - dt.timedelta(minutes=m), None, text="Planned outages list please")
    [alert] = check_at(NOW)
    assert (alert.kind, alert.watch, alert.count) == ("word", "outage", 5)


def test_an_alert_of_a_watch_no_longer_watched_is_closed(incident_tag, settings):
    word = WatchWord.objects.create(word="outage")
    for m in range(5):
        incident(NOW - dt.timedelta(minutes=m), None, text="outage again")
    [alert] = check_at(NOW)
    word.delete()
    check_at(NOW + dt.timedelta(minutes=1))
    alert.refresh_from_db()
    assert not alert.is_open


def test_two_checks_at_once_raise_one_alert(incident_tag):
    for m in range(6):
        incident(NOW - dt.timedelta(minutes=m), incident_tag)
    assert len(check_at(NOW)) == 1
    assert check_at(NOW) == []
    assert SpikeAlert.objects.count() == 1 and Event.objects.filter(type="alert.spike").count() == 1


def test_the_beat_runs_the_check_every_minute():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["spike-check"]
    assert entry["task"] == "tagging.tasks.check_spikes"
    assert entry["schedule"] == dt.timedelta(seconds=60)


def test_the_task_raises_through_the_service(incident_tag):
    from tagging.tasks import check_spikes as task

    now = timezone.now()
    for m in range(5):
        incident(now - dt.timedelta(minutes=m + 1), incident_tag)
    result = task.delay().get()
    assert result == {"raised": list(SpikeAlert.objects.values_list("pk", flat=True))}
    assert len(result["raised"]) == 1


def test_the_thresholds_come_from_the_environment_with_defaults(monkeypatch):
    from config.env import env_numbers

    monkeypatch.setenv("SPIKE_MIN_COUNT", "9")
    monkeypatch.setenv("SPIKE_FACTOR", "2.5")
    monkeypatch.delenv("SPIKE_WINDOW_MINUTES", raising=False)
    found = env_numbers("SPIKE_", WINDOW_MINUTES=60, MIN_COUNT=5, FACTOR=3.0)
    assert found == {"WINDOW_MINUTES": 60, "MIN_COUNT": 9, "FACTOR": 2.5}
    assert isinstance(found["MIN_COUNT"], int) and isinstance(found["FACTOR"], float)
