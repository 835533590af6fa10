"""The mails routing sends people by itself (away notifications, SLA alerts, spike alerts) are
written in each recipient's language, with times on the recipient's clock."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from inbox import events
from routing.models import Notification
from routing.notification_mail import mail_waiting
from routing.sla_notify import mail_sla_events
from routing.spike_notify import mail_spikes
from tagging.models import SpikeAlert
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ConversationFactory

pytestmark = pytest.mark.django_db

# Due Monday 2026-12-07 03:00 UTC: 10.00 in Jakarta, 03:00 in UTC.
DUE = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)


def away_mail_to(person, mailoutbox):
    # Ids can come back after a rollback (SQLite): no socket count of an earlier test's user.
    cache.delete_many([f"online.sockets.{person.pk}", f"online.seen.{person.pk}"])
    conversation = ConversationFactory(subject="Printer on fire")
    Notification.objects.create(
        recipient=person,
        kind=Notification.Kind.MENTION,
        conversation=conversation,
        actor=AgentFactory(username=f"ann-{person.username}", first_name="Ann"),
        text="@bob have a look",
        created_at=timezone.now(),
    )
    assert mail_waiting() == 1
    [sent] = mailoutbox
    return sent


def test_the_away_mail_speaks_indonesian_to_an_indonesian_agent(mailoutbox):
    sent = away_mail_to(AgentFactory(username="budi", first_name="Budi", language="id"), mailoutbox)
    assert sent.subject == "[Switchboard] 1 notifikasi selama Anda tidak di tempat"
    assert sent.body.startswith("Halo Budi,")
    assert "Ann menyebut Anda di #" in sent.body and "Printer on fire" in sent.body
    assert "paling banyak sekali setiap sepuluh menit" in sent.body
    assert "mentioned" not in sent.body


def test_the_away_mail_speaks_english_to_an_english_agent(mailoutbox):
    sent = away_mail_to(AgentFactory(username="bob", first_name="Bob", language="en"), mailoutbox)
    assert sent.subject == "[Switchboard] 1 notification while you were away"
    assert sent.body.startswith("Hello Bob,")
    assert "Ann mentioned you on #" in sent.body and "Halo" not in sent.body


def sla_event(conversation, kind="sla.breached", target="first_response"):
    return events.publish(
        kind, conversation=conversation, data={"target": target, "due_at": DUE.isoformat()}
    )


def test_an_sla_breach_goes_to_two_leads_one_mail_each_in_their_language(mailoutbox):
    team = TeamFactory(slug="field")
    LeadFactory(username="dewi", teams=[team], language="id", time_zone="Asia/Jakarta")
    LeadFactory(username="liam", teams=[team], language="en", time_zone="UTC")
    conversation = ConversationFactory(team=team, subject="Refund")
    assert mail_sla_events([sla_event(conversation)]) == 2
    mails = {m.to[0]: m for m in mailoutbox}
    assert sorted(mails) == ["dewi@example.com", "liam@example.com"]
    indonesian, english = mails["dewi@example.com"], mails["liam@example.com"]
    assert indonesian.to == ["dewi@example.com"] and english.to == ["liam@example.com"]
    assert indonesian.subject == (
        f"[Switchboard] SLA terlewati: respons pertama di #{conversation.pk} Refund"
    )
    assert f"Target respons pertama percakapan #{conversation.pk} terlewati" in indonesian.body
    # An Indonesian date on the clock of Jakarta.
    assert "(tenggat 7 Des. 2026, 10.00 Asia/Jakarta)." in indonesian.body
    assert english.subject == (
        f"[Switchboard] SLA breached: first response on #{conversation.pk} Refund"
    )
    assert f"The first response target of conversation #{conversation.pk} is breached" in (
        english.body
    )
    assert "(due Dec. 7, 2026, 3 a.m. UTC)." in english.body


def test_an_sla_warning_reaches_an_indonesian_assignee_in_indonesian(mailoutbox):
    team = TeamFactory(slug="desk")
    LeadFactory(username="lead-en", teams=[team], language="en")
    siti = AgentFactory(username="siti", teams=[team], language="id")
    conversation = ConversationFactory(team=team, assignee=siti, subject="Late parcel")
    assert mail_sla_events([sla_event(conversation, "sla.warning", "resolution")]) == 1
    [sent] = mailoutbox  # a warning on an assigned conversation: the assignee only
    assert sent.to == ["siti@example.com"]
    assert "SLA segera jatuh tempo: penyelesaian" in sent.subject


def test_people_with_the_same_language_and_clock_share_one_mail(mailoutbox):
    team = TeamFactory(slug="night")
    LeadFactory(username="a-lead", teams=[team], language="id", time_zone="Asia/Jakarta")
    LeadFactory(username="b-lead", teams=[team], language="id", time_zone="Asia/Jakarta")
    conversation = ConversationFactory(team=team)
    assert mail_sla_events([sla_event(conversation)]) == 1
    [sent] = mailoutbox
    assert sent.to == ["a-lead@example.com", "b-lead@example.com"]


def spike_mail_to(person, mailoutbox):
    alert = SpikeAlert.objects.create(
        kind=SpikeAlert.Kind.TAG,
        watch="incident",
        count=8,
        peak=8,
        baseline=0.0,
        threshold=5,
        window_minutes=60,
        samples=[],
        opened_at=timezone.now(),
    )
    Notification.objects.create(
        recipient=person,
        kind=Notification.Kind.SPIKE,
        alert=alert,
        text="8 conversations tagged incident in 60 minutes (usually 0).",
        event_id=4242,
        created_at=timezone.now(),
    )
    assert mail_spikes([4242]) == 1
    [sent] = mailoutbox
    return sent


def test_the_spike_mail_speaks_indonesian_to_an_indonesian_lead(mailoutbox):
    sent = spike_mail_to(LeadFactory(username="rina", first_name="Rina", language="id"), mailoutbox)
    assert sent.subject == "[Switchboard] Lonjakan insiden: incident"
    assert sent.body.startswith("Halo Rina,")
    # Described again in Indonesian, not the English text of the bell row.
    assert "8 percakapan dengan tag incident dalam 60 menit (biasanya 0)." in sent.body
    assert "conversations tagged" not in sent.body


def test_the_spike_mail_speaks_english_to_an_english_lead(mailoutbox):
    sent = spike_mail_to(LeadFactory(username="max", first_name="Max", language="en"), mailoutbox)
    assert sent.subject == "[Switchboard] Incident spike: incident"
    assert "8 conversations tagged incident in 60 minutes (usually 0)." in sent.body
