"""The agent's language (issue 23): picked on the profile page, else the browser's
Accept-Language; the page's <html lang>, its words and the /jsi18n/ catalogue follow it."""

import pytest
from django.test import Client

from accounts.services import set_language

pytestmark = pytest.mark.django_db


def browser_for(user, accept: str = "") -> Client:
    client = Client(headers={"accept-language": accept} if accept else {})
    client.force_login(user)
    return client


def test_without_a_pick_the_browser_language_is_spoken(agent):
    english = browser_for(agent).get("/inbox/profile/").content.decode()
    assert '<html lang="en">' in english
    assert "Your profile" in english
    indonesian = browser_for(agent, "id-ID,id;q=0.9").get("/inbox/profile/")
    assert '<html lang="id">' in indonesian.content.decode()
    assert "Profil Anda" in indonesian.content.decode()
    assert indonesian.headers["Content-Language"] == "id"


def test_the_agents_pick_wins_over_the_browser_and_is_refused_when_unknown(agent):
    client = browser_for(agent, "en-US,en;q=0.9")
    saved = client.post("/inbox/profile/", {"language": "id"})
    assert saved.status_code == 302
    agent.refresh_from_db()
    assert agent.language == "id"
    page = client.get("/inbox/profile/").content.decode()
    assert '<html lang="id">' in page
    assert "Halaman Anda kini memakai bahasa ini." in page
    assert '<option value="id" lang="id" selected>' in page
    catalogue = client.get("/jsi18n/").content.decode()
    assert "Urungkan" in catalogue

    client.post("/inbox/profile/", {"language": "xx"})
    agent.refresh_from_db()
    assert agent.language == "id"
    with pytest.raises(ValueError):
        set_language(user=agent, language="klingon")

    client.post("/inbox/profile/", {"language": ""})
    agent.refresh_from_db()
    assert agent.language == ""
    assert '<html lang="en">' in client.get("/inbox/profile/").content.decode()


def test_the_api_keeps_to_the_request_and_a_visitor_gets_the_browser_language(agent):
    set_language(user=agent, language="id")
    login = Client(headers={"accept-language": "id"}).get("/login/").content.decode()
    assert '<html lang="id">' in login


def test_the_chat_door_refuses_in_the_visitors_language(team):
    from tests.inbox.factories import ChannelFactory

    channel = ChannelFactory(kind="chat", slug="chat", default_team=team)
    url = f"/chat/{channel.public_key}/session/"
    for accept, words in [("id-ID,id;q=0.9", "Alamat email itu"), ("en", "That email address")]:
        visitor = Client(headers={"accept-language": accept})
        answer = visitor.post(url, '{"email": "nope"}', content_type="application/json")
        assert answer.status_code == 400
        assert answer.json()["detail"].startswith(words)


def test_the_catalogue_is_kept_by_the_browser_at_its_version_and_changes_with_the_language(agent):
    """The page's scripts waited for /jsi18n/ on every page load: its address now names its
    language and version, and that address is answered as one a browser may keep."""
    import re

    client = browser_for(agent, "en-US,en;q=0.9")
    english = re.search(r'src="(/jsi18n/\?[^"]+)"', client.get("/inbox/profile/").content.decode())
    address = english.group(1).replace("&amp;", "&")
    assert "l=en" in address and re.search(r"v=[0-9a-f]{12}", address)
    kept = client.get(address)
    assert kept.status_code == 200 and "max-age=31536000" in kept.headers["Cache-Control"]
    assert "immutable" in kept.headers["Cache-Control"]

    # An old or made-up version is still answered, without the promise to keep it.
    stale = client.get(re.sub(r"v=[0-9a-f]+", "v=000000000000", address))
    assert stale.status_code == 200 and "immutable" not in stale.headers.get("Cache-Control", "")

    client.post("/inbox/profile/", {"language": "id"})
    page = client.get("/inbox/profile/").content.decode()
    indonesian = re.search(r'src="(/jsi18n/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert indonesian != address and "l=id" in indonesian
    assert "Urungkan" in client.get(indonesian).content.decode()
