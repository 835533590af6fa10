"""The after-hours reply end to end in headless Chromium against the real ASGI app (fixtures
from test_browser.py): an admin switches it on for an email channel on the channel's settings
page; then a customer's mail outside business hours gets exactly one reply, saying in the
customer's language when the team is back; their second mail gets none, nor does an auto-reply.
Screenshots land in tests/artifacts/."""

import datetime as dt

import httpx
import pytest

from inbox.intake.adapters.email import sign
from inbox.models import Channel, Conversation, Message
from routing.models import BusinessHours, TeamPolicy
from tests.accounts.factories import AdminFactory
from tests.inbox.factories import ChannelFactory, ContactFactory, ContactIdentityFactory
from tests.inbox.intake.email.mail import raw_mail
from tests.workspace.browser import login, shot, user, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "raw-mail-secret"
TEXT = "Terima kasih sudah menulis ke Acme."


def closed_now(team) -> None:
    """The team works 09:00-17:00 UTC on one day only, three days from now: closed today."""
    day = BusinessHours.DAYS[(dt.datetime.now(dt.UTC).weekday() + 3) % 7]
    calendar = BusinessHours.objects.create(
        name="One day a week", timezone="UTC", weekly={day: [["09:00", "17:00"]]}
    )
    TeamPolicy.objects.create(team=team, business_hours=calendar)


def mail_in(base: str, body: bytes) -> None:
    response = httpx.post(
        f"{base}/webhooks/email/help/raw",
        content=body,
        headers={"Content-Type": "message/rfc822", "X-Signature": sign(SECRET, body)},
        timeout=30,
    )
    assert response.status_code == 202, response.text


def after_hours_replies():
    return Message.objects.filter(direction="out", auto_kind="auto_reply")


def test_an_after_hours_reply_goes_once_and_never_to_an_auto_reply(
    page,
    server,
    support,
    mailoutbox,
):
    channel = ChannelFactory(
        kind="email",
        slug="help",
        name="Acme Support",
        address="help@support.example.com",
        secret=SECRET,
        default_team=support,
    )
    closed_now(support)
    budi = ContactFactory(name="Budi", email="budi@customer.example", attributes={"language": "id"})
    ContactIdentityFactory(contact=budi, kind="email", external_id=budi.email)
    user(AdminFactory, "admin")
    httpx.get(f"{server}/login/", timeout=60)  # the server's first answer is slow on a busy box
    login(page, server, "admin", f"/inbox/settings/channels/{channel.pk}/")
    page.get_by_label("Send an after-hours reply").check()
    page.get_by_label("Message", exact=True).fill(TEXT)
    shot(page, "settings-after-hours")
    page.get_by_role("button", name="Save after-hours reply").click()
    page.wait_for_selector("text=After-hours reply saved.")
    assert Channel.objects.get(pk=channel.pk).config["after_hours"] == {
        "enabled": True,
        "text": TEXT,
    }
    assert page.get_by_label("Send an after-hours reply").is_checked()

    mail_in(
        server,
        raw_mail(
            sender="Budi <budi@customer.example>",
            subject="Paket belum sampai",
            text="Halo, paket saya belum sampai.",
            message_id="first@customer.example",
        ),
    )
    assert wait_for(lambda: after_hours_replies().exists(), timeout=10)
    [reply] = after_hours_replies()
    conversation = reply.conversation
    assert reply.text.startswith(f"{TEXT}\n\nKami kembali pada hari ")
    assert reply.text.endswith(" pukul 09.00.")  # the customer's language, the team's clock
    assert wait_for(lambda: len(mailoutbox) == 1, timeout=10)
    [sent] = mailoutbox
    assert sent.to == ["budi@customer.example"]
    assert sent.extra_headers["Auto-Submitted"] == "auto-replied"

    mail_in(
        server,
        raw_mail(
            sender="Budi <budi@customer.example>",
            subject="Re: Paket belum sampai",
            text="Ada yang bisa bantu?",
            message_id="second@customer.example",
            in_reply_to="first@customer.example",
            references="<first@customer.example>",
        ),
    )
    assert wait_for(
        lambda: Message.objects.filter(conversation=conversation, direction="in").count() == 2,
        timeout=10,
    )

    mail_in(
        server,
        raw_mail(
            sender="Out Of Office <ooo@partner.example>",
            subject="Automatic reply: Paket belum sampai",
            text="I am away until Monday.",
            message_id="ooo@partner.example",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    automatic = wait_for(
        lambda: (
            Message.objects.filter(direction="in", sender_contact__email="ooo@partner.example")
            .select_related("conversation")
            .first()
        ),
        timeout=10,
    )
    assert automatic.conversation_id != conversation.pk
    assert after_hours_replies().count() == 1  # the second mail and the auto-reply got none
    assert not Message.objects.filter(conversation=automatic.conversation, direction="out").exists()
    assert len(mailoutbox) == 1
    assert Conversation.objects.get(pk=conversation.pk).message_count == 3

    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector(f"text={TEXT}")
    shot(page, "after-hours-reply-in-conversation")
    assert page.problems == []
