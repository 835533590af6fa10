"""/api/v1/teams|users|memberships/ writes (issue 23): admins 2xx, agents 403, bad input 400
naming the field; the invitation mail's link sets a password and activates the account."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Membership, Team, User
from tests.accounts.factories import AgentFactory
from tests.support.smtp import LocalSMTPServer

pytestmark = pytest.mark.django_db


def test_admin_creates_and_renames_a_team_agent_is_refused(client_for, admin_user, agent):
    created = client_for(admin_user).post("/api/v1/teams/", {"name": "Billing EU"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "billing-eu"
    pk = created.json()["id"]
    renamed = client_for(admin_user).patch(
        f"/api/v1/teams/{pk}/", {"name": "Billing Europe"}, format="json"
    )
    assert renamed.status_code == 200 and Team.objects.get(pk=pk).name == "Billing Europe"
    assert client_for(agent).post("/api/v1/teams/", {"name": "X"}, format="json").status_code == 403
    assert (
        client_for(agent).patch(f"/api/v1/teams/{pk}/", {"name": "X"}, format="json").status_code
        == 403
    )
    assert client_for(agent).get("/api/v1/teams/").status_code == 200  # still reference data


def test_bad_team_input_names_the_field(client_for, admin_user, team):
    blank = client_for(admin_user).post("/api/v1/teams/", {"name": "  "}, format="json")
    assert blank.status_code == 400 and "name" in blank.json()
    taken = client_for(admin_user).post(
        "/api/v1/teams/", {"name": "Support", "slug": "support"}, format="json"
    )
    assert taken.status_code == 400 and "slug" in taken.json()


def test_invite_mails_a_link_that_sets_the_password_and_activates(client_for, admin_user, team):
    response = client_for(admin_user).post(
        "/api/v1/users/",
        {
            "email": "Nia@Example.com",
            "name": "Nia Putri",
            "role": "lead",
            "team": "support",
            "time_zone": "Asia/Jakarta",
            "capacity": 7,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="nia@example.com")
    assert not user.is_active and not user.has_usable_password()
    assert (user.role, user.capacity, user.time_zone) == ("lead", 7, "Asia/Jakarta")
    assert Membership.objects.filter(user=user, team=team).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nia@example.com"]
    link = re.search(r"https?://\S+/invite/\S+/", mail.outbox[0].body).group(0)
    path = "/" + link.split("/", 3)[3]
    browser = Client()
    form_page = browser.get(path, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a long Passphrase 42", "new_password2": "a long Passphrase 42"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password("a long Passphrase 42")
    assert Client().login(username="nia@example.com", password="a long Passphrase 42")
    assert Client().get(path).status_code == 410  # the link works once


def test_invite_refusals(client_for, admin_user, agent):
    bad = client_for(admin_user).post("/api/v1/users/", {"email": "not-mail"}, format="json")
    assert bad.status_code == 400 and "email" in bad.json()
    role = client_for(admin_user).post(
        "/api/v1/users/", {"email": "x@example.com", "role": "boss"}, format="json"
    )
    assert role.status_code == 400 and "role" in role.json()
    forbidden = client_for(agent).post("/api/v1/users/", {"email": "y@example.com"}, format="json")
    assert forbidden.status_code == 403
    assert not mail.outbox and not User.objects.filter(is_active=False).exists()


def test_patch_user_role_capacity_time_zone(client_for, admin_user, agent):
    url = f"/api/v1/users/{agent.pk}/"
    ok = client_for(admin_user).patch(
        url, {"role": "lead", "capacity": 3, "time_zone": "Asia/Jakarta"}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["time_zone"] == "Asia/Jakarta"
    agent.refresh_from_db()
    assert (agent.role, agent.capacity) == ("lead", 3)
    bad = client_for(admin_user).patch(url, {"time_zone": "Mars/Base"}, format="json")
    assert bad.status_code == 400 and "time_zone" in bad.json()
    bad = client_for(admin_user).patch(url, {"capacity": 9999}, format="json")
    assert bad.status_code == 400 and "capacity" in bad.json()
    other = AgentFactory(username="bob")
    assert client_for(other).patch(url, {"capacity": 1}, format="json").status_code == 403


def test_memberships_admin_and_own_team_lead(client_for, admin_user, lead, team, other_team):
    bob = AgentFactory(username="bob")
    added = client_for(lead).post(
        "/api/v1/memberships/", {"team": "support", "user": bob.pk}, format="json"
    )
    assert added.status_code == 201 and added.json()["role"] == "member"
    other = client_for(lead).post(
        "/api/v1/memberships/", {"team": "sales", "user": bob.pk}, format="json"
    )
    assert other.status_code == 403  # not the lead of sales
    bad = client_for(admin_user).post(
        "/api/v1/memberships/", {"team": "sales", "user": bob.pk, "role": "boss"}, format="json"
    )
    assert bad.status_code == 400 and "role" in bad.json()
    pk = added.json()["id"]
    promoted = client_for(admin_user).patch(
        f"/api/v1/memberships/{pk}/", {"role": "lead"}, format="json"
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "lead"
    assert client_for(bob).delete(f"/api/v1/memberships/{pk}/").status_code == 204  # now a lead
    assert not Membership.objects.filter(pk=pk).exists()


def test_agent_cannot_change_memberships(client_for, agent, team):
    bob = AgentFactory(username="bob")
    response = client_for(agent).post(
        "/api/v1/memberships/", {"team": "support", "user": bob.pk}, format="json"
    )
    assert response.status_code == 403
    mine = Membership.objects.get(user=agent)
    assert client_for(agent).delete(f"/api/v1/memberships/{mine.pk}/").status_code == 403


def test_the_schema_lists_the_new_endpoints(client_for, admin_user):
    schema = client_for(admin_user).get("/api/schema/?format=json").json()
    for path in ("/api/v1/teams/{id}/", "/api/v1/users/{id}/", "/api/v1/memberships/"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/users/"]


@pytest.fixture
def smtp_server(settings):
    with LocalSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
        yield server


def test_the_invitation_goes_through_the_smtp_relay(client_for, admin_user, smtp_server):
    response = client_for(admin_user).post("/api/v1/users/", {"email": "dewi@example.net"})
    assert response.status_code == 201
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ["dewi@example.net"]
    assert "/invite/" in sent.message.get_content()


def test_a_refused_invitation_mail_adds_nobody(client_for, admin_user, smtp_server):
    smtp_server.refuse_recipient("gone@example.net", "550 5.1.1 No such mailbox")
    response = client_for(admin_user).post("/api/v1/users/", {"email": "gone@example.net"})
    assert response.status_code == 400 and "could not be sent" in response.json()["email"][0]
    assert not User.objects.filter(email="gone@example.net").exists()


def test_an_invitation_can_be_sent_again_until_they_join(client_for, admin_user, agent):
    client = client_for(admin_user)
    pk = client.post("/api/v1/users/", {"email": "sari@example.net"}).json()["id"]
    assert client.post(f"/api/v1/users/{pk}/resend-invitation/").status_code == 204
    assert [m.to for m in mail.outbox] == [["sari@example.net"], ["sari@example.net"]]
    joined = client.post(f"/api/v1/users/{agent.pk}/resend-invitation/")
    assert joined.status_code == 400 and "user" in joined.json()
    assert client_for(agent).post(f"/api/v1/users/{pk}/resend-invitation/").status_code == 403
    assert len(mail.outbox) == 2


def test_the_invite_door_does_not_reactivate_someone_switched_off(agent):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    token = default_token_generator.make_token(agent)  # say, a reset mail from before
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    uid = urlsafe_base64_encode(force_bytes(agent.pk))
    assert Client().get(f"/invite/{uid}/{token}/", follow=True).status_code == 410
    agent.refresh_from_db()
    assert not agent.is_active
