"""The product's own words to a customer (the after-hours "back" line, the default
acknowledgement) are in the contact's language when known, else the channel's; what an admin
wrote goes as written. Through the real intake and the local SMTP server."""

import datetime as dt
import itertools

import pytest
import time_machine

from inbox.models import Channel, Message
from routing.models import BusinessHours, TeamPolicy
from tests.inbox.factories import ContactFactory, ContactIdentityFactory

pytestmark = pytest.mark.django_db

ids = itertools.count()
# Saturday 2026-12-05 22:00 in Jakarta; the team is back Monday 09:00 there.
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC)
AFTER_HOURS_TEXT = "Terima kasih, Acme."


def configure(channel, **config):
    Channel.objects.filter(pk=channel.pk).update(config=config)
    channel.refresh_from_db()


def customer(language: str, address="jane@customer.example"):
    """A contact we know by this address, with this language ("" for none)."""
    contact = ContactFactory(
        name="Jane", email=address, attributes={"language": language} if language else {}
    )
    ContactIdentityFactory(contact=contact, kind="email", external_id=address)
    return contact


@pytest.fixture
def mail_in(inbound, smtp_server, django_capture_on_commit_callbacks):
    def receive(text="Hello, my order is late.", *, at=None, **options):
        with (
            time_machine.travel(at or dt.datetime.now(dt.UTC), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return inbound(f"<lang-{next(ids)}@customer.example>", text, **options)

    return receive


def the_reply() -> Message:
    [reply] = Message.objects.filter(direction="out", auto_kind="auto_reply")
    return reply


def sent_text(smtp_server) -> str:
    [sent] = smtp_server.messages
    return sent.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


@pytest.fixture
def closed_for_the_weekend(team, email_channel):
    calendar = BusinessHours.objects.create(
        name="Jakarta",
        timezone="Asia/Jakarta",
        weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
    )
    TeamPolicy.objects.create(team=team, business_hours=calendar)
    configure(email_channel, after_hours={"enabled": True, "text": AFTER_HOURS_TEXT})
    return email_channel


def test_the_after_hours_reply_to_an_indonesian_contact_says_when_we_are_back_in_indonesian(
    closed_for_the_weekend, mail_in, smtp_server
):
    customer("id")
    mail_in("Halo, pesanan saya terlambat.", at=SATURDAY_NIGHT)
    # The admin's text as written, then the product's line in Indonesian, on the team's clock
    # written the Indonesian way (09.00, not 09:00).
    expected = f"{AFTER_HOURS_TEXT}\n\nKami kembali pada hari Senin pukul 09.00."
    assert the_reply().text == expected
    assert expected in sent_text(smtp_server)


def test_the_after_hours_reply_to_an_english_contact_is_in_english(
    closed_for_the_weekend, mail_in, smtp_server
):
    customer("en")
    configure(
        closed_for_the_weekend,
        after_hours={"enabled": True, "text": AFTER_HOURS_TEXT},
        language="id",  # the channel's default loses to what the contact says
    )
    mail_in(at=SATURDAY_NIGHT)
    assert the_reply().text == f"{AFTER_HOURS_TEXT}\n\nWe are back on Monday at 09:00."


def test_an_unknown_contact_gets_the_channels_language(closed_for_the_weekend, mail_in):
    configure(
        closed_for_the_weekend,
        after_hours={"enabled": True, "text": AFTER_HOURS_TEXT},
        language="id",
    )
    mail_in(at=SATURDAY_NIGHT)
    assert the_reply().text.endswith("Kami kembali pada hari Senin pukul 09.00.")


def test_the_default_acknowledgement_to_an_indonesian_contact_is_in_indonesian(
    email_channel, mail_in, smtp_server
):
    customer("id")
    configure(email_channel, auto_ack={"enabled": True})
    mail_in("Halo, pesanan saya terlambat.")
    expected = (
        "Terima kasih telah menghubungi kami. Pesan Anda sudah kami terima dan akan segera kami "
        "balas."
    )
    assert the_reply().text == expected
    assert expected in sent_text(smtp_server)


def test_the_default_acknowledgement_to_an_english_contact_is_in_english(email_channel, mail_in):
    customer("en")
    configure(email_channel, auto_ack={"enabled": True}, language="id")
    mail_in()
    assert the_reply().text == (
        "Thank you for writing to us. We have received your message and will answer soon."
    )


def test_an_acknowledgement_the_admin_wrote_goes_as_written(email_channel, mail_in):
    customer("id")
    configure(email_channel, auto_ack={"enabled": True, "text": "Thanks, we got it."})
    mail_in()
    assert the_reply().text == "Thanks, we got it."


def test_a_reply_to_an_indonesian_contact_quotes_them_in_indonesian(
    email_channel, mail_in, smtp_server, agent, django_capture_on_commit_callbacks
):
    from inbox.outbound.replies import send_reply
    from inbox.quoting import split_quoted

    customer("id")
    received = mail_in("Pesanan saya belum sampai.", subject="", at=SATURDAY_NIGHT)
    with django_capture_on_commit_callbacks(execute=True):
        send_reply(conversation_id=received.conversation.pk, actor=agent, text="Kami cek dulu.")
    [sent] = smtp_server.messages
    assert sent.message["Subject"] == "Re: pesan Anda"
    text = sent_text(smtp_server)
    assert "Pada Sab, 05 Des 2026 pukul 14.59 UTC, Jane menulis:" in text
    # The Indonesian quote header folds like any other (inbox.quoting).
    assert split_quoted(text)[0].strip() == "Kami cek dulu."
