"""Nothing typed is lost: drafts saved on the server per agent and conversation, kept through an
expired session and deleted on sending; over-long text refused whole, with the limit in words;
errors in words beside their control; the login lockout as a page."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from inbox.models import Channel, Draft, Message
from tests.accounts.factories import AgentFactory, LeadFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db
PASSWORD = "drafts-pass-1"


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def conversation_in(team, **kw):
    return ConversationFactory(team=team, channel=ChannelFactory(default_team=team), **kw)


def put_draft(client, conversation, text, kind="message"):
    return client.put(
        f"/inbox/conversations/{conversation.pk}/draft/",
        json.dumps({"kind": kind, "text": text}),
        content_type="application/json",
    )


def get_draft(client, conversation, kind="message"):
    return client.get(f"/inbox/conversations/{conversation.pk}/draft/?kind={kind}")


def page_of(client, conversation) -> str:
    return client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()


def test_a_draft_is_saved_loaded_and_shown_in_its_box_on_another_device(agent, team):
    c = conversation_in(team)
    assert put_draft(browser_for(agent), c, "Hello, about your <order>").status_code == 200
    assert put_draft(browser_for(agent), c, "Remember the refund", kind="note").status_code == 200

    other_device = browser_for(agent)
    assert get_draft(other_device, c).json()["text"] == "Hello, about your <order>"
    page = page_of(other_device, c)
    assert ">Hello, about your &lt;order&gt;</textarea>" in page
    assert ">Remember the refund</textarea>" in page


def test_another_agent_never_reads_a_colleagues_draft(agent, team, other_team):
    c = conversation_in(team)
    put_draft(browser_for(agent), c, "My half-written answer")
    colleague = browser_for(AgentFactory(username="bob", teams=[team]))
    assert get_draft(colleague, c).json()["text"] == ""
    assert "My half-written answer" not in page_of(colleague, c)
    outsider = browser_for(AgentFactory(username="carol", teams=[other_team]))
    assert get_draft(outsider, c).status_code == 404
    assert put_draft(outsider, c, "sneaky").status_code == 404


def test_sending_deletes_the_draft_and_back_never_offers_the_sent_text(agent, team):
    c = conversation_in(team)
    client = browser_for(agent)
    put_draft(client, c, "On it, refund today")
    response = client.post(
        f"/inbox/conversations/{c.pk}/reply/", {"text": "On it, refund today"}, follow=True
    )
    assert "Reply queued" in response.content.decode()
    assert not Draft.objects.filter(user=agent, conversation=c).exists()
    # The page after sending tells the draft script to forget its local copy.
    assert "data-draft-sent" in response.content.decode()
    again = client.get(f"/inbox/conversations/{c.pk}/")  # Back, or a reload
    assert again["Cache-Control"] == "no-store"
    body = again.content.decode()
    assert "data-draft-sent" not in body
    assert "On it, refund today</textarea>" not in body
    assert get_draft(client, c).json()["text"] == ""


def test_a_refused_reply_keeps_its_text_as_the_draft(agent, team):
    c = conversation_in(team)
    client = browser_for(agent)
    response = client.post(
        f"/inbox/conversations/{c.pk}/reply/",
        {"text": "Please try again", "cc": "not-an-address"},
        follow=True,
    )
    assert "Not sent:" in response.content.decode()
    assert ">Please try again</textarea>" in response.content.decode()
    assert Draft.objects.get(user=agent, conversation=c).text == "Please try again"


def test_an_expired_session_gets_401_json_with_a_login_link_back(agent, team):
    c = conversation_in(team)
    signed_out = Client()
    for response in (put_draft(signed_out, c, "typed after expiry"), get_draft(signed_out, c)):
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "signed_out" and "log in again" in body["detail"].lower()
        assert body["login_url"] == f"/login/?next=%2Finbox%2Fconversations%2F{c.pk}%2F"
    assert signed_out.get("/inbox/session/").status_code == 401
    assert browser_for(agent).get("/inbox/session/").json()["username"] == "alice"
    assert not Draft.objects.exists()


def test_a_reply_posted_after_the_session_expired_survives_the_login(team):
    agent = AgentFactory(username="alice", teams=[team])
    agent.set_password(PASSWORD)
    agent.save()
    c = conversation_in(team)
    client = Client()  # the session is gone; the page's form is still open
    response = client.post(f"/inbox/conversations/{c.pk}/reply/", {"text": "Typed for ages"})
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=%2Finbox%2Fconversations%2F{c.pk}%2F"
    assert not Message.objects.filter(conversation=c, direction="out").exists()

    login = client.post(
        "/login/",
        {"username": "alice", "password": PASSWORD, "next": f"/inbox/conversations/{c.pk}/"},
    )
    assert login["Location"] == f"/inbox/conversations/{c.pk}/"
    assert ">Typed for ages</textarea>" in page_of(client, c)
    assert Draft.objects.get(user=agent, conversation=c, kind="message").text == "Typed for ages"


def test_over_long_text_is_refused_whole_with_the_limit_in_words(agent, team):
    c = conversation_in(team)
    client = browser_for(agent)
    page = page_of(client, c)
    assert 'data-limit="50000"' in page and "of 50000 characters at most" in page
    assert 'maxlength="50000"' not in page  # a browser's maxlength cuts a paste silently

    too_long = "x" * 50_001
    draft = put_draft(client, c, too_long)
    assert draft.status_code == 400
    assert "50,001 characters long; the limit here is 50,000" in draft.json()["detail"]
    for form in ("reply", "note"):
        response = client.post(
            f"/inbox/conversations/{c.pk}/{form}/", {"text": too_long}, follow=True
        )
        assert "the limit here is 50,000" in response.content.decode()
    assert not Message.objects.filter(conversation=c, direction="out").exists()


def test_a_channel_with_a_smaller_limit_shows_and_enforces_it(agent, team):
    telegram = ChannelFactory(
        kind=Channel.Kind.TELEGRAM, default_team=team, config={"bot_token": "t"}
    )
    c = ConversationFactory(team=team, channel=telegram)
    client = browser_for(agent)
    assert 'data-limit="4096"' in page_of(client, c)
    response = client.post(f"/inbox/conversations/{c.pk}/reply/", {"text": "y" * 4097}, follow=True)
    assert (
        "The reply is 4,097 characters long; the limit here is 4,096" in response.content.decode()
    )
    assert Draft.objects.get(user=agent, conversation=c).text == "y" * 4097  # kept to shorten
    assert not Message.objects.filter(conversation=c, direction="out").exists()


def test_bulk_with_nothing_picked_says_so_in_words_beside_the_bar(team):
    lead = LeadFactory(username="lead", teams=[team])
    client = browser_for(lead)
    response = client.post(
        "/inbox/bulk/", {"action": "status", "status": "resolved", "next": "/inbox/"}, follow=True
    )
    page = response.content.decode()
    assert "Pick at least one conversation." in page
    assert "ids:" not in page and "Ensure this field" not in page
    bar = page[page.index('id="bulk"') : page.index("</form>", page.index('id="bulk"'))]
    assert "Pick at least one conversation." in bar


def test_the_bulk_api_says_pick_at_least_one_conversation(client_for, team):
    api = client_for(LeadFactory(username="lead2", teams=[team]))
    response = api.post("/api/v1/conversations/bulk/", {"ids": [], "action": "tag"}, format="json")
    assert response.status_code == 400
    assert response.json()["ids"] == ["Pick at least one conversation."]


def test_the_login_lockout_is_a_page_in_words_for_a_browser(settings, team):
    cache.clear()
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login_failures": "2/h"}
    browser = Client(HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    for n in range(3):
        response = browser.post("/login/?next=/inbox/", {"username": "alice", "password": f"g{n}"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Too many login attempts" in page and "Try again in" in page and "minute" in page
    assert 'href="/login/?next=/inbox/"' in page or "next=%2Finbox%2F" in page
    script = Client().post("/login/", {"username": "alice", "password": "g9"})
    assert script.status_code == 429 and script.json()["code"] == "rate_limited"
    cache.clear()


def test_a_refused_csrf_check_answers_in_words(agent, team):
    c = conversation_in(team)
    stale = Client(enforce_csrf_checks=True)
    stale.force_login(agent)
    save = put_draft(stale, c, "typed on an old page")
    assert save.status_code == 403 and save.json()["code"] == "csrf_failed"
    assert "text you were typing is kept" in save.json()["detail"]
    form = stale.post(
        f"/inbox/conversations/{c.pk}/reply/", {"text": "hi"}, HTTP_ACCEPT="text/html"
    )
    assert form.status_code == 403 and "This page is out of date" in form.content.decode()
    assert "CSRF verification failed" not in form.content.decode()


def test_the_api_refuses_over_long_replies_in_words(client_for, agent, team):
    telegram = ChannelFactory(
        kind=Channel.Kind.TELEGRAM, default_team=team, config={"bot_token": "t"}
    )
    c = ConversationFactory(team=team, channel=telegram)
    api = client_for(agent)
    url = f"/api/v1/conversations/{c.pk}/messages/"
    over_channel = api.post(url, {"text": "a" * 4097, "kind": "message"}, format="json")
    assert over_channel.status_code == 400
    assert "4,097 characters long; the limit here is 4,096" in over_channel.json()["detail"]
    over_all = api.post(url, {"text": "a" * 50_001, "kind": "note"}, format="json")
    assert over_all.status_code == 400
    assert "longer than 50000 characters" in over_all.json()["text"][0]
    assert not Message.objects.filter(conversation=c, direction="out").exists()
