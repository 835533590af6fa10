"""The activity panel says each audit row as a sentence (workspace.activity_text), in English and
in Indonesian: names, not slugs or usernames; the source for a row without an actor; times
through `stamp` in the agent's zone."""

import datetime as dt
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import strip_tags

from tagging.models import Tag
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ActivityFactory
from workspace.activity_text import activity_rows, activity_sentence

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(team):
    return AgentFactory(username="bob", first_name="Bob", last_name="", teams=[team])


def said(activity, language="en") -> str:
    with translation.override(language):
        return html.unescape(strip_tags(activity_sentence(activity)))


def row(**fields):
    fields.setdefault("reason", "")
    return ActivityFactory(**fields)


def test_tag_added_by_a_rule_is_said_by_name_and_source():
    Tag.objects.update_or_create(slug="incident", defaults={"name": "Incident"})
    a = row(verb="tagged", from_value=None, to_value="incident", reason="classification rule")
    assert said(a) == "Classification rule added the tag Incident"
    assert said(a, "id") == "Aturan klasifikasi menambahkan tag Incident"


def test_tag_removed_by_a_person(bob):
    Tag.objects.update_or_create(slug="sales-lead", defaults={"name": "Sales lead"})
    a = row(verb="untagged", actor=bob, from_value="sales-lead", to_value=None)
    assert said(a) == "Bob removed the tag Sales lead"
    assert said(a, "id") == "Bob menghapus tag Sales lead"


def test_a_list_of_tags_and_an_unknown_slug():
    Tag.objects.create(slug="billing", name="Billing")
    a = row(verb="tagged", from_value=None, to_value=["billing", "gone-tag"])
    assert said(a) == "Switchboard added the tags Billing, gone-tag"
    assert said(a, "id") == "Switchboard menambahkan tag Billing, gone-tag"


def test_suggested_tag_accepted_and_dismissed(bob):
    Tag.objects.create(slug="refund", name="Refund")
    accepted = row(
        verb="tagged", actor=bob, from_value=None, to_value="refund",
        reason="accepted learned suggestion, score 0.91",
    )  # fmt: skip
    dismissed = row(
        verb="dismissed suggestion", actor=bob, from_value=None, to_value="refund",
        reason="learned suggestion, score 0.40",
    )  # fmt: skip
    assert said(accepted) == "Bob accepted the suggested tag Refund"
    assert said(dismissed) == "Bob dismissed the suggested tag Refund"
    assert said(accepted, "id") == "Bob menerima tag saran Refund"
    assert said(dismissed, "id") == "Bob mengabaikan tag saran Refund"


def test_severity_changed_by_a_rule():
    a = row(verb="severity", from_value="normal", to_value="high", reason="classification rule")
    assert said(a) == "Classification rule set severity to high (was normal)"
    assert said(a, "id") == (
        "Aturan klasifikasi mengubah tingkat keparahan menjadi tinggi (sebelumnya normal)"
    )


def test_auto_assignment_names_the_agent_and_the_team(team):
    AgentFactory(username="lead", first_name="", last_name="", teams=[team])
    a = row(
        verb="assigned",
        from_value={"team": "support", "assignee": None},
        to_value={"team": "support", "assignee": "lead"},
        reason="auto (least_load)",
    )
    assert said(a) == "Auto-assignment assigned this to lead in Support"
    assert said(a, "id") == "Penugasan otomatis menugaskan ini kepada lead di Support"


def test_assignment_by_a_person_uses_display_names(team, other_team, bob):
    AgentFactory(username="carol", first_name="Carol", last_name="Tan", teams=[other_team])
    to_carol = row(
        verb="assigned", actor=bob,
        from_value={"team": "support", "assignee": "bob"},
        to_value={"team": "sales", "assignee": "carol"},
    )  # fmt: skip
    to_team = row(
        verb="assigned", actor=bob,
        from_value={"team": "support", "assignee": "bob"},
        to_value={"team": "sales", "assignee": None},
    )  # fmt: skip
    unassigned = row(
        verb="assigned", actor=bob,
        from_value={"team": "support", "assignee": "bob"},
        to_value={"team": "support", "assignee": None},
    )  # fmt: skip
    assert said(to_carol) == "Bob assigned this to Carol Tan in Sales"
    assert said(to_team) == "Bob moved this to Sales"
    assert said(unassigned) == "Bob unassigned this (was Bob)"
    assert said(to_team, "id") == "Bob memindahkan ini ke Sales"
    assert said(unassigned, "id") == "Bob melepas penugasan ini (sebelumnya Bob)"


def test_status_changes(bob):
    resolved = row(verb="status", actor=bob, from_value="open", to_value="resolved")
    reopened = row(verb="status", actor=bob, from_value="resolved", to_value="open")
    pending = row(verb="status", actor=bob, from_value="open", to_value="pending")
    spam = row(verb="status", actor=bob, from_value="open", to_value="spam")
    replied = row(verb="status", from_value="pending", to_value="open", reason="customer replied")
    assert said(resolved) == "Bob resolved this"
    assert said(reopened) == "Bob reopened this"
    assert said(pending) == "Bob marked this as pending"
    assert said(spam) == "Bob marked this as spam"
    assert said(replied) == "The customer replied; back to open"
    assert said(resolved, "id") == "Bob menyelesaikan ini"
    assert said(reopened, "id") == "Bob membuka kembali ini"
    assert said(pending, "id") == "Bob menandai ini sebagai menunggu"
    assert said(replied, "id") == "Pelanggan membalas; kembali terbuka"


def test_snooze_time_is_stamped_in_the_agents_zone(bob):
    until = dt.datetime(2025, 12, 8, 2, 0, tzinfo=dt.UTC)  # 09:00 in Jakarta
    a = row(
        verb="status", actor=bob, from_value="open",
        to_value={"status": "snoozed", "until": until.isoformat()},
    )  # fmt: skip
    with timezone.override("Asia/Jakarta"), translation.override("en"):
        markup = activity_sentence(a)
    assert '<time datetime="2025-12-08T09:00:00+07:00" data-stamp>' in markup
    assert "2025-12-08T02:00" not in markup  # never the stored ISO moment
    text = strip_tags(markup)
    assert text.startswith("Bob snoozed this until ")
    assert "8 Dec" in text and text.endswith("09:00")
    with timezone.override("Asia/Jakarta"):
        text_id = said(a, "id")
    assert text_id.startswith("Bob menunda ini sampai ") and text_id.endswith("09:00")


def test_snooze_ended_without_an_actor():
    a = row(verb="status", from_value="snoozed", to_value="open", reason="snooze ended")
    assert said(a) == "Snooze ended; this is open again"
    assert said(a, "id") == "Penundaan berakhir; ini terbuka lagi"


def test_survey_sent_and_answered():
    sent = row(verb="csat_sent", to_value=7, reason="csat survey after resolve")
    answered = row(verb="csat_answered", to_value=4, reason="csat survey answered")
    nps = row(verb="csat_answered", to_value=9, reason="nps survey answered")
    assert said(sent) == "Survey sent"
    assert said(answered) == "Customer answered the survey: 4/5"
    assert said(nps) == "Customer answered the survey: 9/10"
    assert said(sent, "id") == "Survei terkirim"
    assert said(answered, "id") == "Pelanggan menjawab survei: 4/5"


def test_sla_breach_and_what_it_escalated():
    breach = row(
        verb="sla_breached", to_value="first_response", reason="SLA breach (first response)"
    )
    raised = row(verb="severity", from_value="normal", to_value="high", reason=breach.reason)
    assert said(breach) == "SLA breached: first response"
    assert said(raised) == "SLA set severity to high (was normal)"
    assert said(breach, "id") == "SLA terlewati: respons pertama"


def test_macro_run_lists_its_changes(bob):
    Tag.objects.create(slug="refund", name="Refund")
    a = row(
        verb="macro", actor=bob, reason="",
        to_value={"macro": "Refund", "id": 1, "changes": [
            {"kind": "add_tags", "value": ["refund"]},
            {"kind": "set_severity", "value": "high"},
        ]},
    )  # fmt: skip
    assert said(a) == "Bob ran the macro “Refund”: Add tags: Refund; Set severity: high"
    assert said(a, "id") == (
        "Bob menjalankan makro “Refund”: Tambahkan tag: Refund; Atur tingkat keparahan: tinggi"
    )


def test_contact_merged_and_automatic_replies():
    merged = row(verb="contact_merged", from_value=1, to_value=2, reason="Ann merged into Ann T")
    ack = row(
        verb="auto_acknowledged",
        to_value=3,
        reason="automatic acknowledgement of a new conversation",
    )
    after_hours = row(
        verb="after_hours_replied", to_value=4, reason="automatic reply outside business hours"
    )
    canned = row(verb="rule_canned_replied", to_value={"rule": 1}, reason="routing rule: VIP")
    assert said(merged) == "Contact merged"
    assert said(ack) == "Automatic acknowledgement sent"
    assert said(after_hours) == "After-hours reply sent"
    assert said(canned) == "Routing rule “VIP” sent a canned reply"
    assert said(merged, "id") == "Kontak digabungkan"
    assert said(canned, "id") == "Aturan perutean “VIP” mengirim balasan siap pakai"


def test_a_reason_a_person_wrote_is_kept(bob):
    a = row(verb="severity", actor=bob, from_value="low", to_value="critical", reason="VIP <b>")
    assert said(a) == "Bob set severity to critical (was low) (VIP <b>)"
    assert "&lt;b&gt;" in activity_sentence(a)  # escaped: a reason is people's text


def test_unknown_verb_falls_back_to_a_readable_sentence(bob):
    a = row(verb="priority_flag", actor=bob, from_value="off", to_value="on")
    b = row(verb="pinged", from_value=None, to_value=None)
    assert said(a) == "Bob changed priority flag from off to on"
    assert said(b) == "Switchboard: pinged"
    assert said(a, "id") == "Bob mengubah priority flag dari off menjadi on"


def test_names_for_a_page_of_rows_cost_one_query_per_kind(team, bob):
    Tag.objects.create(slug="refund", name="Refund")
    rows = [
        row(verb="tagged", to_value="refund", from_value=None),
        row(verb="untagged", from_value="refund", to_value=None),
        row(
            verb="assigned", from_value={"team": "support", "assignee": None},
            to_value={"team": "support", "assignee": "bob"},
        ),
    ] * 10  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        said_rows = activity_rows(rows)
    assert len(queries) == 3  # tags, teams, people
    assert strip_tags(said_rows[2].text) == "Switchboard assigned this to Bob in Support"
