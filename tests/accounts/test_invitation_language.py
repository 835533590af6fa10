"""The invitation mail is written in the invited person's language when set, else in the
inviter's, else the site's."""

import pytest

from accounts.people import invite_user
from tests.accounts.factories import AdminFactory

pytestmark = pytest.mark.django_db


def test_an_indonesian_admins_invitation_is_in_indonesian(mailoutbox):
    admin = AdminFactory(username="wati", first_name="Wati", language="id")
    invite_user(actor=admin, email="nia@example.com", name="Nia Putri")
    [sent] = mailoutbox
    assert sent.to == ["nia@example.com"]
    assert sent.subject == "Anda diundang ke Switchboard"
    assert "Wati mengundang Anda untuk melayani pelanggan dengan Switchboard." in sent.body
    assert "invited" not in sent.body


def test_an_english_admins_invitation_is_in_english(mailoutbox):
    admin = AdminFactory(username="jane", first_name="Jane", language="en")
    invite_user(actor=admin, email="sam@example.com", name="Sam")
    [sent] = mailoutbox
    assert sent.subject == "You are invited to Switchboard"
    assert "Jane invited you to answer customers with Switchboard." in sent.body


def test_without_languages_the_site_default_is_used(mailoutbox, settings):
    settings.LANGUAGE_CODE = "id"
    invite_user(actor=AdminFactory(username="site", language=""), email="ana@example.com")
    assert mailoutbox[0].subject == "Anda diundang ke Switchboard"
