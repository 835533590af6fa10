"""Settings > Canned responses: the same service as /api/v1/canned-responses/, through a form."""

import pytest
from django.test import Client

from inbox.models import CannedResponse

pytestmark = pytest.mark.django_db

PAGE = "/inbox/settings/canned/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_previews_then_saves_a_personal_one(agent):
    client = logged_in(agent)
    form = {"title": "Thanks", "shortcut": "thanks", "text": "Thanks {{contact.first_name}}!"}
    preview = client.post(PAGE, {**form, "scope": "personal", "preview": "1"})
    assert preview.status_code == 200 and "Thanks Dana!" in preview.content.decode()
    assert not CannedResponse.objects.exists()  # a preview saves nothing
    saved = client.post(PAGE, {**form, "scope": "personal"})
    assert saved.status_code == 302
    canned = CannedResponse.objects.get()
    assert (canned.owner, canned.team, canned.shortcut) == (agent, None, "thanks")
    page = client.get(PAGE).content.decode()
    assert "/thanks" in page and 'value="global"' not in page  # agents pick personal only


def test_a_bad_variable_is_shown_next_to_the_form(agent):
    response = logged_in(agent).post(
        PAGE, {"title": "T", "text": "Hi {{contact.nmae}}", "scope": "personal"}
    )
    assert response.status_code == 400
    assert "Unknown variable {{contact.nmae}}" in response.content.decode()


def test_an_agent_forcing_a_global_one_is_refused(agent):
    response = logged_in(agent).post(PAGE, {"title": "T", "text": "x", "scope": "global"})
    assert response.status_code == 403 and not CannedResponse.objects.exists()


def test_an_agent_cannot_edit_or_delete_someone_elses(agent, admin_user):
    shared = CannedResponse.objects.create(title="All", text="x")
    theirs = CannedResponse.objects.create(title="Admin's", text="x", owner=admin_user)
    client = logged_in(agent)
    assert client.get(f"{PAGE}{theirs.pk}/").status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/delete/").status_code == 404
    edit = client.post(f"{PAGE}{shared.pk}/", {"title": "Mine", "text": "y", "scope": "global"})
    assert edit.status_code == 403
    assert client.post(f"{PAGE}{shared.pk}/delete/").status_code == 403
    shared.refresh_from_db()
    assert shared.title == "All"
    assert logged_in(admin_user).post(f"{PAGE}{shared.pk}/delete/").status_code == 302
    assert not CannedResponse.objects.filter(pk=shared.pk).exists()
