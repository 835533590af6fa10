"""Every mail of the shared corpus goes through the real pipeline (`ingest_email`: stored raw,
parsed, received) and comes out as a message or an explicit quarantine, never an exception."""

from pathlib import Path

import pytest

from inbox.intake.doors.email import ingest_email
from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

EMAILS = Path(__file__).resolve().parents[3] / "fixtures" / "emails"
CORPUS = sorted(EMAILS.glob("*.eml"))


@pytest.fixture
def channel():
    return ChannelFactory(slug="help", address="help@support.example.com")


def test_the_corpus_is_there():
    assert len(CORPUS) == 30


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_every_corpus_mail_becomes_a_message_or_an_explicit_quarantine(channel, path):
    result = ingest_email(channel=channel, raw=path.read_bytes())

    event = InboundEvent.objects.get()
    if result.outcome == "quarantined":
        assert event.status == InboundEvent.Status.FAILED
        assert event.error
    else:
        assert result.outcome == "ok"
        assert event.status == InboundEvent.Status.PROCESSED
        message = Message.objects.get()
        assert message.conversation_id == result.conversation_id
        assert message.inbound_event_id == event.pk


# (file, subject, sender email, a phrase of the text, attachments, auto_kind)
TABLE = [
    (
        "SH-E-001",
        'WARNING: message delayed at "nsfnet-relay.ac.uk"',
        "postmaster@nsfnet-relay.ac.uk",
        "human-readable explanation",
        0,
        "bounce",
    ),
    (
        "SH-E-002",
        "Undeliverable: Some subject",
        "postmaster@example.com",
        "human-readable explanation",
        1,
        "bounce",
    ),
    (
        "SH-E-003",
        "Returned mail: User unknown",
        "mailer-daemon@cs.utk.edu",
        "human-readable explanation",
        1,
        "bounce",
    ),
    ("SH-E-004", "Attachment", "james@makita.skynet", "A text section", 1, ""),
    ("SH-E-005", "Attachment", "james@makita.skynet", "A text section", 1, ""),
    ("SH-E-006", "plain text", "james@makita.skynet", "Linguistics and dictionaries", 0, ""),
    ("SH-E-007", "Attachment", "james@makita.skynet", "A text section", 1, ""),
    ("SH-E-008", "Attachment", "james@makita.skynet", "A text section", 1, ""),
    (
        "SH-E-009",
        "Text body only with disposition inline",
        "cgarrett@stuff.com",
        "Just some html content",
        0,
        "",
    ),
    ("SH-E-010", "Test", "alice@test.com", "", 1, ""),
    ("SH-E-011", "Welcome to Papertrail", "support@papertrailapp.com", "Quick Start", 0, ""),
    ("SH-E-012", "Epilogue", "pem@open.ch", "A text section", 1, ""),
    ("SH-E-013", "MIME test 1", "james@makita.skynet", "Test of text section", 1, ""),
    ("SH-E-015", "MIME test 1", "james@makita.skynet", "Test of HTML section", 1, ""),
    ("SH-E-016", "Test", "bob@extern", "Simple text.", 2, ""),
    ("SH-E-017", "Test", "bob@extern", "Simple text.", 2, ""),
    ("SH-E-018", "Multipart Mixed", "jamehi03@jamehi03lx.noa.com", "Section two", 0, ""),
    ("SH-E-019", "Malformed test", "pavel.bazika@some.domain", "Text part", 1, ""),
    ("SH-E-020", "alert", "example@demo.com", "ploozdect  nispplul", 0, ""),
    (
        "SH-E-021",
        "Confirmation of Booking with easyHotel",
        "bookings@easyhotel.com",
        "Thank you for booking with easyHotel.",
        1,
        "",
    ),
    ("SH-E-022", "Multipart Mixed", "jamehi03@jamehi03lx.noa.com", "html2", 0, ""),
    ("SH-E-023", "Multipart Signed", "jamehi03@jamehi03lx.noa.com", "Section one", 1, ""),
    (
        "SH-E-024",
        "Delivery Status Notification (Failure)",
        "mailer-daemon@example.com",
        "multipart message without boundary",
        0,
        "bounce",
    ),
    ("SH-E-025", "test Sun, 14 Oct 2012 16:09:01 -0700", "james@hillyerd.com", "mailing", 0, ""),
    ("SH-E-027", "MIME test 1", "james@makita.skynet", "Plain text.", 2, ""),
    (
        "SH-E-028",
        "MIME UTF8 Test ¢ More Text",
        "jamehi03@jamehi03lx.noa.com",
        "Lorem ipsum dolor sit amet",
        0,
        "",
    ),
    (
        "SH-E-029",
        "MIME Quoted Printable",
        "jamehi03@jamehi03lx.noa.com",
        "Lorem ipsum dolor sit amet",
        0,
        "",
    ),
    ("SH-E-030", "Emoji from Gmail", "valere.jeantet@gmail.com", "A text section", 1, ""),
]


@pytest.mark.parametrize(
    ("case", "subject", "sender", "phrase", "attachment_count", "auto_kind"),
    TABLE,
    ids=[row[0] for row in TABLE],
)
def test_corpus_mail_is_read_right(
    channel, case, subject, sender, phrase, attachment_count, auto_kind
):
    result = ingest_email(channel=channel, raw=(EMAILS / f"{case}.eml").read_bytes())

    assert result.outcome == "ok"
    message = Message.objects.select_related("conversation", "sender_contact").get()
    assert message.conversation.subject == subject
    assert message.sender_contact.email.lower() == sender
    assert phrase in message.text
    assert message.attachments.count() == attachment_count
    assert message.auto_kind == auto_kind


def test_encoded_word_subject_and_sender_name_are_decoded(channel):
    ingest_email(channel=channel, raw=(EMAILS / "SH-E-028.eml").read_bytes())

    message = Message.objects.select_related("sender_contact").get()
    assert message.sender_contact.name == "James Hillyerd"
    assert "=?" not in message.conversation.subject


def test_eight_bit_text_declared_us_ascii_is_read_as_utf8(channel):
    ingest_email(channel=channel, raw=(EMAILS / "SH-E-006.eml").read_bytes())

    assert "∮ E⋅da = Q" in Message.objects.get().text


def test_html_only_mail_gets_a_text_rendering_and_sanitized_html(channel):
    ingest_email(channel=channel, raw=(EMAILS / "SH-E-025.eml").read_bytes())

    message = Message.objects.select_related("conversation").get()
    assert message.html and "<html" not in message.html
    assert "This\nis\na\ntest\nmailing" in message.text
    assert message.conversation.snippet.startswith("This is a test")


def test_inline_cid_image_is_stored_inline_and_shown_from_our_attachment_url(
    channel, client_for, admin_user
):
    ingest_email(channel=channel, raw=(EMAILS / "SH-E-014.eml").read_bytes())

    message = Message.objects.get()
    image = message.attachments.get()
    assert image.is_inline and image.content_id and image.content_type == "image/png"
    assert f"cid:{image.content_id}" in message.html
    response = client_for(admin_user).get(
        f"/api/v1/conversations/{message.conversation_id}/messages/"
    )
    shown = response.json()[0]["html"]
    assert "cid:" not in shown
    assert f'src="{response.json()[0]["attachments"][0]["url"]}"' in shown


def test_attachment_whose_bytes_contradict_its_type_is_stored_as_octet_stream(channel):
    # favicon.jpg is declared image/jpeg but its bytes are a PNG.
    ingest_email(channel=channel, raw=(EMAILS / "SH-E-010.eml").read_bytes())

    message = Message.objects.get()
    attachment = message.attachments.get()
    assert attachment.name == "favicon.jpg"
    assert attachment.content_type == "application/octet-stream"
    assert message.headers["x-switchboard-type-mismatch"] == [
        {"name": "favicon.jpg", "declared": "image/jpeg", "detected": "image/png"}
    ]


def test_non_ascii_attachment_name_is_kept_as_a_safe_display_name(channel):
    ingest_email(channel=channel, raw=(EMAILS / "SH-E-019.eml").read_bytes())

    attachment = Message.objects.get().attachments.get()
    assert attachment.name == "管理.doc"
    assert "管理" not in attachment.file.name
