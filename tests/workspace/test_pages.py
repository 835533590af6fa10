"""The agents' pages through the Django test client: what each role sees and may do, that the
pages call the same services as the API (audit rows), and that hostile text stays text."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import search
from inbox.models import Activity, CannedResponse, Conversation, Message
from tagging.models import ConversationTag, Tag
from tests.accounts.factories import AgentFactory, LeadFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def conversation_in(team, **kw):
    return ConversationFactory(team=team, channel=ChannelFactory(default_team=team), **kw)


SIDEBAR_ENTRY = re.compile(
    r'<span>([^<]+)</span>\s*<span class="count[^"]*"[^>]*>([^<]*)</span>', re.MULTILINE
)


def sidebar_counts(client, query: str = "") -> dict[str, str]:
    """The sidebar's views as the agent reads them: {name: count text}, from the fragment the
    inbox page loads right after itself (and again on every live change)."""
    response = client.get(f"/inbox/sidebar/{query}")
    assert response.status_code == 200
    return dict(SIDEBAR_ENTRY.findall(response.content.decode()))


@pytest.fixture
def sales_conversation(other_team):
    return conversation_in(other_team, subject="Sales only")


# --- the inbox ---------------------------------------------------------------------------------


def test_inbox_lists_the_agents_conversations_with_views_and_counts(agent, team):
    mine = conversation_in(team, subject="Printer on fire", assignee=agent)
    conversation_in(team, subject="Nobody has this")
    client = browser_for(agent)
    response = client.get("/inbox/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Printer on fire" in body and "Nobody has this" in body
    assert f'id="row-{mine.pk}"' in body
    # The page names the views at once; their counts come with the sidebar right after it.
    assert {"Mine", "Unassigned", "My teams", "Feature request"} <= set(
        dict(SIDEBAR_ENTRY.findall(body))
    )
    assert 'hx-trigger="load, every 60s' in body and 'aria-busy="true"' in body
    counts = sidebar_counts(client)
    assert counts["Mine"] == "1"
    assert counts["Unassigned"] == "1"
    assert counts["My teams"] == "2"
    assert counts["Feature request"] == "0"  # one view per default tag


def test_the_inbox_page_leaves_the_counting_to_its_sidebar(agent, team):
    for _ in range(3):
        conversation_in(team)
    client = browser_for(agent)
    client.get("/inbox/")
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/inbox/").content.decode()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # Every view has a placeholder where its count goes, so the counts move nothing on arrival.
    assert body.count('class="count pending" aria-hidden="true">…</span>') == len(
        SIDEBAR_ENTRY.findall(body)
    )
    fragment = client.get("/inbox/sidebar/").content.decode()
    assert "pending" not in fragment and "aria-busy" not in fragment
    assert 'hx-trigger="every 60s, sidebar-refresh from:body"' in fragment  # no reload loop
    assert 'aria-label="3 conversations">3</span>' in fragment


def test_sidebar_counts_follow_a_new_conversation_and_its_assignment(agent, team):
    from inbox.intake.receive import receive_message
    from inbox.normalized import NormalizedMessage, SenderRef

    channel = ChannelFactory(slug="partner", kind="api", default_team=team)
    client = browser_for(agent)
    before = sidebar_counts(client)
    assert (before["Unassigned"], before["Mine"], before["All"]) == ("0", "0", "0")

    conversation = receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind=channel.kind,
            external_id="m-1",
            thread_key=None,
            sender=SenderRef(kind="api", id="u-1", name="Globex"),
            text="Our dashboard is down",
            html=None,
            attachments=(),
            sent_at=timezone.now(),
        ),
    ).conversation
    arrived = sidebar_counts(client)
    assert (arrived["Unassigned"], arrived["Mine"], arrived["All"]) == ("1", "0", "1")

    response = client.post(
        f"/inbox/conversations/{conversation.pk}/assign/",
        {"team": team.slug, "assignee": agent.username},
    )
    assert response.status_code == 302
    assigned = sidebar_counts(client)
    assert (assigned["Unassigned"], assigned["Mine"], assigned["All"]) == ("0", "1", "1")


def test_sla_at_risk_view_counts_conversations_due_within_the_hour(agent, team):
    soon = timezone.now() + dt.timedelta(minutes=30)
    conversation_in(team, subject="Due soon", first_response_due=soon)
    conversation_in(team, subject="Due later", first_response_due=soon + dt.timedelta(hours=2))
    client = browser_for(agent)
    views = {v["name"]: v for v in client.get("/inbox/sidebar/").context["views"]}
    assert views["SLA at risk"]["count"] == 1
    body = client.get(views["SLA at risk"]["url"]).content.decode()
    assert "Due soon" in body and "Due later" not in body


def test_inbox_filters_by_text_and_shows_a_bad_filter_as_a_readable_error(agent, team):
    for subject in ("Refund for order 1234", "Password help"):
        c = conversation_in(team, subject=subject)
        search.index_text(conversation_id=c.pk, text="", subject=subject)
    client = browser_for(agent)
    body = client.get("/inbox/", {"q": "refund"}).content.decode()
    assert "Refund for order 1234" in body and "Password help" not in body
    bad = client.get("/inbox/", {"created_after": "yesterday-ish"})
    assert bad.status_code == 400
    assert "created_after" in bad.content.decode()


def test_inbox_pages_by_cursor_without_repeating_rows(agent, team):
    base = timezone.now()
    for i in range(30):
        conversation_in(
            team, subject=f"Item {i:02d}", last_message_at=base - dt.timedelta(minutes=i)
        )
    client = browser_for(agent)
    first = client.get("/inbox/")
    assert len(first.context["conversations"]) == 25
    second = client.get(first.context["next"])
    seen = {c.pk for c in first.context["conversations"]}
    rest = {c.pk for c in second.context["conversations"]}
    assert len(rest) == 5 and not seen & rest


def test_inbox_page_costs_the_same_queries_at_5_and_50_rows(agent, team):
    client = browser_for(agent)
    tag = Tag.objects.get(slug="incident")

    def make(n):
        for _ in range(n):
            c = conversation_in(team, assignee=agent)
            ConversationTag.objects.create(conversation=c, tag=tag)

    make(5)
    client.get("/inbox/?page_size=100")  # warm the session and content types
    with CaptureQueriesContext(connection) as five:
        assert len(client.get("/inbox/?page_size=100").context["conversations"]) == 5
    make(45)
    with CaptureQueriesContext(connection) as fifty:
        assert len(client.get("/inbox/?page_size=100").context["conversations"]) == 50
    assert len(fifty) == len(five)


def test_agent_does_not_see_another_teams_conversation_anywhere(agent, sales_conversation):
    client = browser_for(agent)
    assert "Sales only" not in client.get("/inbox/").content.decode()
    assert client.get(f"/inbox/conversations/{sales_conversation.pk}/").status_code == 404
    assert client.get(f"/inbox/rows/{sales_conversation.pk}/").status_code == 404
    assert (
        client.post(
            f"/inbox/conversations/{sales_conversation.pk}/reply/", {"text": "hi"}
        ).status_code
        == 404
    )
    assert not Message.objects.filter(conversation=sales_conversation).exists()


def test_pages_need_login_and_carry_a_csp_without_inline_script(agent):
    anonymous = Client().get("/inbox/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    response = browser_for(agent).get("/inbox/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()  # only <script src=...>


def test_hostile_names_and_subjects_are_escaped(agent, team):
    contact = ContactFactory(name=HOSTILE)
    c = conversation_in(team, contact=contact, subject=HOSTILE)
    MessageFactory(conversation=c, text=HOSTILE)
    client = browser_for(agent)
    for url in ("/inbox/", f"/inbox/conversations/{c.pk}/", f"/inbox/rows/{c.pk}/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;" in body, url


def test_email_html_is_served_to_a_sandboxed_frame_without_remote_images(agent, team):
    c = conversation_in(team)
    m = MessageFactory(conversation=c, html='<p>Hi</p><img src="https://tracker.example/p.gif">')
    client = browser_for(agent)
    page = client.get(f"/inbox/conversations/{c.pk}/").content.decode()
    assert 'sandbox="allow-popups"' in page and f"/inbox/messages/{m.pk}/body/" in page
    body = client.get(f"/inbox/messages/{m.pk}/body/")
    assert "sandbox" in body["Content-Security-Policy"]
    assert "img-src data:;" in body["Content-Security-Policy"]  # no remote images by default
    shown = client.get(f"/inbox/messages/{m.pk}/body/?images=1")
    assert "https:" in shown["Content-Security-Policy"]
    assert "script-src" not in shown["Content-Security-Policy"]  # default-src 'none' covers it


def test_quoted_history_is_folded_behind_a_toggle_and_never_dropped(agent, team):
    c = conversation_in(team)
    text = (
        "Still broken after the update.\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Support <help@example.com> wrote:\n"
        "> Please try <b>restarting</b> it.\n"
    )
    MessageFactory(conversation=c, text=text)
    body = browser_for(agent).get(f"/inbox/conversations/{c.pk}/").content.decode()
    new, _, folded = body.partition("<summary>Show quoted text</summary>")
    assert "Still broken after the update." in new
    assert "Please try" not in new  # folded, not shown in the body
    assert "&gt; Please try &lt;b&gt;restarting&lt;/b&gt; it." in folded  # kept, and escaped
    assert '<details class="quoted">' in new


def test_an_agents_reply_is_not_folded(agent, team):
    c = conversation_in(team)
    MessageFactory(
        conversation=c,
        direction="out",
        sender_contact=None,
        sender_user=agent,
        text="Here you go.\n> quoted line",
    )
    body = browser_for(agent).get(f"/inbox/conversations/{c.pk}/").content.decode()
    assert "Show quoted text" not in body and "&gt; quoted line" in body


def test_tag_chips_take_their_colour_from_a_stylesheet_not_inline_style(agent, team):
    urgent = Tag.objects.create(slug="urgent", name="Urgent", color="#C53030")
    Tag.objects.create(slug="pale", name="Pale", color="#fefcbf")
    Tag.objects.create(slug="evil", name="Evil", color="}*{a:b}")
    c = conversation_in(team, subject="Coloured")
    ConversationTag.objects.create(conversation=c, tag=urgent)
    client = browser_for(agent)
    page = client.get("/inbox/").content.decode()
    assert '<link rel="stylesheet" href="/inbox/tags.css">' in page
    assert '<span class="chip tag-urgent">Urgent</span>' in page and "style=" not in page
    css = client.get("/inbox/tags.css")
    assert css["Content-Type"].startswith("text/css")
    text = css.content.decode()
    assert (
        ".chip.tag-urgent { background: #c53030; border-color: #c53030; color: #ffffff; }" in text
    )
    assert ".chip.tag-pale { background: #fefcbf; border-color: #fefcbf; color: #1a202c; }" in text
    assert "tag-evil" not in text and "*{a:b" not in text  # an invalid colour is never written
    assert Client().get("/inbox/tags.css").status_code == 302  # login first


# --- the conversation: writes go through the services ------------------------------------------


def test_reply_is_queued_on_the_channel_and_a_refusal_is_shown(agent, team):
    c = conversation_in(team)
    client = browser_for(agent)
    response = client.post(f"/inbox/conversations/{c.pk}/reply/", {"text": "On it!"}, follow=True)
    assert "Reply queued" in response.content.decode()
    sent = Message.objects.get(conversation=c, direction="out")
    assert sent.text == "On it!" and sent.sender_user == agent
    empty = client.post(f"/inbox/conversations/{c.pk}/reply/", {"text": "   "}, follow=True)
    assert "Not sent: A reply needs some text." in empty.content.decode()


def test_email_reply_carries_the_optional_subject_and_cc(agent, team):
    c = conversation_in(team, subject="Invoice")
    client = browser_for(agent)
    page = client.get(f"/inbox/conversations/{c.pk}/").content.decode()
    assert 'id="reply-subject"' in page and 'id="reply-cc"' in page
    client.post(
        f"/inbox/conversations/{c.pk}/reply/",
        {"text": "Attached.", "subject": "Your invoice", "cc": "boss@example.com, ap@example.com"},
    )
    sent = Message.objects.get(conversation=c, direction="out")
    assert sent.headers["subject"] == "Your invoice"
    assert sent.headers["cc"] == ["boss@example.com", "ap@example.com"]
    bad = client.post(
        f"/inbox/conversations/{c.pk}/reply/",
        {"text": "Again", "cc": "not-an-address"},
        follow=True,
    )
    assert "is not a valid email address for cc" in bad.content.decode()
    assert Message.objects.filter(conversation=c, direction="out").count() == 1


def test_a_closed_window_is_explained_before_typing_and_sending_is_disabled(agent, team):
    meta = ChannelFactory(kind="meta", default_team=team)
    late = timezone.now() - dt.timedelta(hours=30)
    c = ConversationFactory(team=team, channel=meta, last_inbound_at=late)
    client = browser_for(agent)
    page = client.get(f"/inbox/conversations/{c.pk}/").content.decode()
    assert "customer-service window is closed" in page
    assert 'aria-describedby="reply-refusal"' in page and "disabled>Send</button>" in page
    assert 'id="reply-cc"' not in page  # cc and subject are for email only
    forced = client.post(f"/inbox/conversations/{c.pk}/reply/", {"text": "Hi"}, follow=True)
    assert "Not sent: The 24-hour customer-service window is closed" in forced.content.decode()
    assert not Message.objects.filter(conversation=c, direction="out").exists()


def test_an_api_channel_without_callback_says_so_and_one_with_it_allows_replies(agent, team):
    silent = ConversationFactory(team=team, channel=ChannelFactory(kind="api", default_team=team))
    wired = ConversationFactory(
        team=team,
        channel=ChannelFactory(
            kind="api", default_team=team, config={"callback_url": "http://127.0.0.1:9/r"}
        ),
    )
    client = browser_for(agent)
    assert "no callback URL" in client.get(f"/inbox/conversations/{silent.pk}/").content.decode()
    page = client.get(f"/inbox/conversations/{wired.pk}/").content.decode()
    assert "reply-refusal" not in page and "disabled>Send</button>" not in page


def test_composer_lists_the_agents_canned_responses_with_placeholders_filled_and_escaped(
    agent, team, other_team
):
    agent.first_name, agent.last_name = "Alice", "Agent"
    agent.save()
    c = conversation_in(team, contact=ContactFactory(name=HOSTILE))
    CannedResponse.objects.create(title="Hello", text="Hi {{contact.name}}, {{ agent.name }} here.")
    CannedResponse.objects.create(title="Team macro", text="Support only", team=team)
    CannedResponse.objects.create(title="Mine", text="My own", owner=agent)
    CannedResponse.objects.create(title="Sales macro", text="Sales only", team=other_team)
    CannedResponse.objects.create(title="Bobs", text="Not yours", owner=AgentFactory())
    page = browser_for(agent).get(f"/inbox/conversations/{c.pk}/").content.decode()
    titles = re.findall(r'data-text="[^"]*">([^<]+)</option>', page)
    assert titles == ["Hello", "Mine", "Team macro"]
    assert 'data-text="Hi &lt;script&gt;alert(&quot;pwned&quot;)' in page
    assert "Alice Agent here." in page and "<script>alert" not in page


def test_note_tag_severity_assign_and_status_write_audit_rows(agent, team):
    colleague = AgentFactory(username="bob", teams=[team])
    c = conversation_in(team)
    client = browser_for(agent)
    url = f"/inbox/conversations/{c.pk}/"
    client.post(url + "note/", {"text": "@bob look"})
    client.post(url + "tags/", {"tags": "incident"})
    client.post(url + "severity/", {"severity": "high"})
    client.post(url + "assign/", {"team": team.slug, "assignee": "bob"})
    client.post(url + "status/", {"status": "pending"})
    c.refresh_from_db()
    assert c.severity_name == "high" and c.assignee == colleague and c.status == "pending"
    assert list(c.tags.values_list("slug", flat=True)) == ["incident"]
    note = Message.objects.get(conversation=c, kind="note")
    assert list(note.mentions.all()) == [colleague]
    verbs = set(Activity.objects.filter(conversation=c, actor=agent).values_list("verb", flat=True))
    assert {"tagged", "severity", "status"} <= verbs
    page = client.get(url).content.decode()
    assert "Private note" in page


def test_snooze_needs_a_future_time(agent, team):
    c = conversation_in(team)
    client = browser_for(agent)
    past = client.post(
        f"/inbox/conversations/{c.pk}/status/",
        {"status": "snoozed", "until": "2001-01-01T09:00"},
        follow=True,
    )
    assert "Snooze needs a time in the future." in past.content.decode()
    assert "Not sent" not in past.content.decode()  # a refused snooze is no reply
    later = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"/inbox/conversations/{c.pk}/status/", {"status": "snoozed", "until": later})
    c.refresh_from_db()
    assert c.status == "snoozed" and c.snoozed_until is not None


def test_agent_cannot_hand_a_conversation_to_another_teams_agent(agent, team, other_team):
    AgentFactory(username="carol", teams=[other_team])
    c = conversation_in(team)
    response = browser_for(agent).post(
        f"/inbox/conversations/{c.pk}/assign/",
        {"team": other_team.slug, "assignee": "carol"},
        follow=True,
    )
    assert "Agents assign within their own teams." in response.content.decode()
    c.refresh_from_db()
    assert c.assignee is None


def test_availability_is_set_from_the_header(agent):
    client = browser_for(agent)
    client.post("/inbox/availability/", {"availability": "away", "next": "/inbox/"})
    agent.refresh_from_db()
    assert agent.availability == "away"
    client.post("/inbox/availability/", {"availability": "asleep"})
    agent.refresh_from_db()
    assert agent.availability == "away"


# --- viewer, bulk, board, product --------------------------------------------------------------


def test_viewer_sees_no_write_controls_and_a_forced_write_is_refused(viewer, team):
    c = conversation_in(team, subject="Read me")
    client = browser_for(viewer)
    inbox = client.get("/inbox/").content.decode()
    page = client.get(f"/inbox/conversations/{c.pk}/").content.decode()
    assert "Read me" in inbox
    for marker in (
        'id="bulk"',
        'id="reply-form"',
        'id="tag-form"',
        'id="assign-form"',
        'id="resolve-form"',
    ):
        assert marker not in inbox + page, marker
    assert 'name="availability"' not in page
    for action, data in [
        ("reply/", {"text": "x"}),
        ("tags/", {"tags": "incident"}),
        ("severity/", {"severity": "high"}),
        ("status/", {"status": "resolved"}),
    ]:
        assert client.post(f"/inbox/conversations/{c.pk}/{action}", data).status_code == 403
    assert (
        client.post(
            "/inbox/bulk/", {"ids": [c.pk], "action": "status", "status": "resolved"}
        ).status_code
        == 403
    )
    c.refresh_from_db()
    assert c.status == "open" and not c.tags.exists()


def test_bulk_is_for_leads_and_applies_to_visible_rows_only(agent, lead, team, sales_conversation):
    rows = [conversation_in(team) for _ in range(3)]
    ids = [c.pk for c in rows] + [sales_conversation.pk]
    assert (
        browser_for(agent)
        .post("/inbox/bulk/", {"ids": ids, "action": "severity", "severity": "high"})
        .status_code
        == 403
    )
    response = browser_for(lead).post(
        "/inbox/bulk/", {"ids": ids, "action": "severity", "severity": "high"}, follow=True
    )
    assert "3 of 4 conversations changed." in response.content.decode()
    assert set(Conversation.objects.filter(severity=3).values_list("pk", flat=True)) == {
        c.pk for c in rows
    }


def test_lead_board_reassigns_overnight_conversations_spread_with_a_reason(lead, team):
    lead.availability = "offline"
    lead.save()
    online = [AgentFactory(username=f"a{i}", teams=[team], availability="online") for i in range(2)]
    night = [conversation_in(team, arrived_outside_hours=True) for _ in range(4)]
    client = browser_for(lead)
    board = client.get("/inbox/board/")
    assert board.status_code == 200
    entry = board.context["board"][0]
    assert {c.pk for c in entry["overnight"]} == {c.pk for c in night}
    client.post(
        "/inbox/bulk/",
        {
            "ids": [c.pk for c in night],
            "action": "assign",
            "team": team.slug,
            "spread": "on",
            "reason": "morning",
        },
    )
    loads = {a.pk: Conversation.objects.filter(assignee=a).count() for a in online}
    assert sorted(loads.values()) == [2, 2]
    assert Activity.objects.filter(conversation=night[0], reason="morning").exists()


def test_board_is_for_leads_only(agent):
    assert browser_for(agent).get("/inbox/board/").status_code == 403


def test_product_view_filters_feature_requests_charts_weeks_and_links_the_export(viewer, team):
    tag = Tag.objects.get(slug="feature-request")
    wanted = conversation_in(team, subject="Dark mode please")
    search.index_text(conversation_id=wanted.pk, text="", subject="Dark mode please")
    ConversationTag.objects.create(conversation=wanted, tag=tag)
    conversation_in(team, subject="Unrelated")
    response = browser_for(viewer).get("/inbox/product/", {"q": "dark"})
    body = response.content.decode()
    assert "Dark mode please" in body and "Unrelated" not in body
    assert response.context["chart"]["total"] == 1 and "<svg" in body
    assert "/api/v1/conversations/export.csv?tag=feature-request&amp;q=dark" in body
    # Read-only for conversations; the only form a viewer (the product team) gets here is a
    # feature request's status (issue 24: the product team curates the board).
    main = body.split("<main")[1]
    assert re.findall(r'<form method="post" action="([^"]+)"', main) == [
        f"/inbox/product/requests/{wanted.pk}/status/"
    ]


# --- login -------------------------------------------------------------------------------------


def test_login_follows_a_local_next_but_never_an_outside_one(agent):
    agent.set_password("pw-123456")
    agent.save()
    local = Client().post(
        "/login/", {"username": "alice", "password": "pw-123456", "next": "/inbox/board/"}
    )
    assert local["Location"] == "/inbox/board/"
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        outside = Client().post(
            "/login/", {"username": "alice", "password": "pw-123456", "next": hostile}
        )
        assert outside.status_code == 302 and "evil" not in outside["Location"], hostile


def test_actions_return_only_to_local_next(agent):
    response = browser_for(agent).post(
        "/inbox/availability/", {"availability": "online", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/inbox/"


def test_logout_is_a_post_and_password_reset_sends_a_link(agent):
    client = browser_for(agent)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert Client().get("/inbox/").status_code == 302
    agent.email = "alice@example.com"
    agent.save()
    response = Client().post("/password-reset/", {"email": "alice@example.com"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1 and "/password-reset/" in mail.outbox[0].body


def test_lead_sees_bulk_controls_and_agent_does_not(agent, team):
    lead = LeadFactory(username="leader", teams=[team])
    conversation_in(team)
    assert 'id="bulk"' in browser_for(lead).get("/inbox/").content.decode()
    assert 'id="bulk"' not in browser_for(agent).get("/inbox/").content.decode()


def test_the_api_webhook_accepts_posts_from_outside_without_a_csrf_cookie(team):
    import json

    from inbox.intake.adapters.api import sign

    ChannelFactory(slug="partner", kind="api", secret="s3cret", default_team=team)
    body = json.dumps({"id": "e-1", "sender": {"id": "u"}, "text": "hi"}).encode()
    response = Client(enforce_csrf_checks=True).post(
        "/webhooks/api/partner/",
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign("s3cret", body),
    )
    assert response.status_code == 202


def test_saved_views_show_in_the_sidebar_with_counts_and_the_sidebar_refreshes_alone(agent, team):
    from inbox.services import create_saved_view

    high = conversation_in(team, severity=3)
    conversation_in(team)
    create_saved_view(owner=agent, name="Hot ones", filters={"severity": ["high"]})
    client = browser_for(agent)
    assert "Hot ones" in client.get("/inbox/").content.decode()
    assert sidebar_counts(client)["Hot ones"] == "1"
    partial = client.get("/inbox/sidebar/?severity=high")
    body = partial.content.decode()
    assert "<html" not in body and "Hot ones" in body and 'hx-get="/inbox/sidebar/' in body
    high.severity = 2
    high.save()
    assert {v["name"]: v["count"] for v in client.get("/inbox/sidebar/").context["views"]}[
        "Hot ones"
    ] == 0


def test_activity_log_reads_as_words(agent, team):
    colleague = AgentFactory(username="bob", teams=[team])
    c = conversation_in(team)
    client = browser_for(agent)
    client.post(f"/inbox/conversations/{c.pk}/assign/", {"team": team.slug, "assignee": "bob"})
    page = client.get(f"/inbox/conversations/{c.pk}/").content.decode()
    said = f"{agent.display_name} assigned this to {colleague.display_name} in {team.name}"
    assert f'<span class="activity-text">{said}</span>' in page


def test_a_live_row_refresh_honours_the_lists_filters(agent, team):
    c = conversation_in(team, subject="Only open ones")
    client = browser_for(agent)
    assert "Only open ones" in client.get(f"/inbox/rows/{c.pk}/?status=open").content.decode()
    c.status = "resolved"
    c.save()
    assert client.get(f"/inbox/rows/{c.pk}/?status=open").status_code == 204
    assert client.get(f"/inbox/rows/{c.pk}/?status=resolved").status_code == 200


def test_list_rows_show_the_sla_countdown_as_the_page_script_writes_it(agent, team):
    now = timezone.now()
    conversation_in(
        team, subject="Amber", first_response_due=now + dt.timedelta(minutes=25, seconds=20)
    )
    conversation_in(
        team, subject="Calm", first_response_due=now + dt.timedelta(hours=3, minutes=5, seconds=20)
    )
    conversation_in(team, subject="Late", first_response_due=now - dt.timedelta(minutes=5))
    conversation_in(team, subject="x" * 100)
    body = browser_for(agent).get("/inbox/").content.decode()
    assert re.search(r'class="sla sla-warning"[^>]*>25 min</time>', body)
    assert re.search(r'class="sla sla-ok"[^>]*>3 h 5 min</time>', body)
    assert re.search(r'class="sla sla-breached"[^>]*>breached</time>', body)
    assert ">" + "x" * 79 + "…</a>" in body


def test_the_sidebar_counts_every_view_in_one_statement(agent, team):
    from inbox.services import create_saved_view

    for _ in range(3):
        conversation_in(team)
    create_saved_view(owner=agent, name="Hot ones", filters={"severity": ["high"]})
    create_saved_view(owner=agent, name="Low ones", filters={"severity": ["low"]})
    client = browser_for(agent)
    client.get("/inbox/sidebar/")
    with CaptureQueriesContext(connection) as queries:
        views = {v["name"]: v["count"] for v in client.get("/inbox/sidebar/").context["views"]}
    assert views["All"] == 3 and views["Hot ones"] == 0 and views["Mine"] == 0
    counts = [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1


def test_the_product_chart_has_axes_values_and_empty_weeks(viewer, team):
    tag = Tag.objects.get(slug="feature-request")
    now = timezone.now()
    for weeks_ago, n in ((5, 3), (2, 7), (0, 1)):  # weeks 4, 3 and 1 ago have none
        for _ in range(n):
            c = conversation_in(team, subject="PDF export")
            Conversation.objects.filter(pk=c.pk).update(
                created_at=now - dt.timedelta(weeks=weeks_ago)
            )
            ConversationTag.objects.create(conversation=c, tag=tag)
    response = browser_for(viewer).get("/inbox/product/")
    chart = response.context["chart"]
    assert [b["n"] for b in chart["bars"]] == [3, 0, 0, 7, 0, 1]
    assert [t["value"] for t in chart["ticks"]] == [0, 2, 4, 6, 8]
    body = response.content.decode()
    chart_at = body.index('<figure class="chart">')
    svg = body[chart_at : body.index("</figure>", chart_at)]
    values = re.findall(r'<text class="value"[^>]*>(\d+)</text>', svg)
    assert values == ["3", "7", "1"]  # each bar's value over it; none over the empty weeks
    assert ">Conversations</text>" in svg and "Week starting (Monday)" in svg


def test_list_rows_preview_the_customers_latest_words_never_our_reply(agent, team):
    from inbox.intake.receive import receive_message
    from inbox.normalized import NormalizedMessage, SenderRef
    from inbox.outbound.replies import send_reply

    channel = ChannelFactory(
        kind="api", default_team=team, config={"callback_url": "http://127.0.0.1:9/cb"}
    )

    def arrive(n, text, subject=""):
        return receive_message(
            channel=channel,
            message=NormalizedMessage(
                channel_kind="api", external_id=f"p-{n}", thread_key="t-1",
                sender=SenderRef(kind="api", id="c-1", name="Dewi"), text=text, html=None,
                attachments=(), sent_at=timezone.now(), subject=subject,
            ),
        ).conversation  # fmt: skip

    conversation = arrive(1, "Hello, the export button does nothing.", subject="Export broken")
    arrive(2, "Also the PDF is empty when it works.")
    send_reply(conversation_id=conversation.pk, actor=agent, text="Looking into it now.")
    row = browser_for(agent).get(f"/inbox/rows/{conversation.pk}/").content.decode()
    assert "Export broken" in row
    assert "— Also the PDF is empty when it works." in row  # the customer's latest words
    assert "Looking into it" not in row  # never our own reply

    listed = browser_for(agent).get("/inbox/").context["conversations"]
    assert [c.preview for c in listed] == ["Also the PDF is empty when it works."]


def test_the_contact_card_lists_other_conversations_or_says_there_are_none(agent, team):
    """No folded "0 other conversations" to open onto "None.": the card says so in words."""
    client = browser_for(agent)
    first = conversation_in(team)
    alone = client.get(f"/inbox/conversations/{first.pk}/").content.decode()
    assert "No other conversations." in alone
    assert "0 other conversations" not in alone

    second = conversation_in(team, contact=first.contact)
    page = client.get(f"/inbox/conversations/{first.pk}/").content.decode()
    assert "1 other conversation" in page and "No other conversations." not in page
    assert f"/inbox/conversations/{second.pk}/" in page
