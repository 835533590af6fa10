"""International mail as real clients send it, stored as readable messages (issue 21, "Every
input stored, none crashing" and mail fidelity): raw 8-bit From/To/Subject (RFC 6532 UTF-8, or
the message's legacy charset), charset labels Python does not know, ISO-2022-JP with its later
extensions, and the whitespace between adjacent encoded-words (RFC 2047, 6.2). Each mail goes
through a real door: the signed raw webhook, or ingest_email."""

from pathlib import Path

import pytest

from inbox.intake.adapters import email as email_adapter
from inbox.intake.doors.email import ingest_email
from inbox.models import Contact, InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import provider_client

pytestmark = pytest.mark.django_db

SECRET = "the-channel-secret"


@pytest.fixture
def channel(team):
    return ChannelFactory(
        slug="door", kind="email", secret=SECRET, address="help@support.example.com"
    )


def mail(head: bytes, body: bytes = b"Hello", message_id: bytes = b"<intl@example.com>") -> bytes:
    return (
        b"Message-ID: "
        + message_id
        + b"\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\n"
        + (head + b"\r\n" + body)
    )


def stored(channel, raw: bytes) -> Message:
    result = ingest_email(channel=channel, raw=raw)
    assert result.outcome == "ok", result
    return Message.objects.get()


def test_raw_utf8_from_to_and_subject_are_stored_readable_through_the_webhook(
    channel, django_capture_on_commit_callbacks
):
    raw = mail(
        "From: Jörg Müller <jorg@example.com>\r\n"
        "To: Équipe support <help@support.example.com>\r\n"
        "Subject: Résumé naïve — 注文\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n".encode(),
        "Grüße".encode(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client().post(
            "/webhooks/email/door/raw",
            data=raw,
            content_type="message/rfc822",
            HTTP_X_SIGNATURE=email_adapter.sign(SECRET, raw),
        )
    assert response.status_code == 202
    assert InboundEvent.objects.get().status == "processed"
    message = Message.objects.get()
    assert message.conversation.subject == "Résumé naïve — 注文"
    assert Contact.objects.get(pk=message.sender_contact_id).name == "Jörg Müller"
    assert message.headers["from"] == "Jörg Müller <jorg@example.com>"
    assert message.headers["to"] == "Équipe support <help@support.example.com>"
    assert message.text == "Grüße"


def test_raw_8bit_headers_in_the_declared_legacy_charset_are_decoded(channel):
    raw = mail(
        b"From: J\xf6rg <jorg@example.com>\r\nTo: help@support.example.com\r\n"
        b"Subject: R\xe9sum\xe9 du caf\xe9\r\nContent-Type: text/plain; charset=iso-8859-1\r\n",
        b"caf\xe9",
    )
    message = stored(channel, raw)
    assert message.conversation.subject == "Résumé du café"
    assert Contact.objects.get(pk=message.sender_contact_id).name == "Jörg"
    assert message.headers["from"] == "Jörg <jorg@example.com>"


def test_raw_8bit_subject_takes_the_charset_of_the_text_part(channel):
    """A multipart mail declares its charset on the part only (here KOI8-R, Russian)."""
    raw = mail(
        b"From: ivan@example.com\r\nTo: help@support.example.com\r\n"
        b"Subject: " + "Заказ не пришёл".encode("koi8-r") + b"\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n',
        b"--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n"
        + "Где мой заказ?".encode("koi8-r")
        + b"\r\n--b--\r\n",
    )
    message = stored(channel, raw)
    assert message.conversation.subject == "Заказ не пришёл"
    assert message.text == "Где мой заказ?"


def test_charset_aliases_in_encoded_words_and_bodies(channel):
    raw = mail(
        b"From: =?iso-8859-8-i?b?+ezl7Q==?= <dana@example.com>\r\n"
        b"To: help@support.example.com\r\n"
        b"Subject: =?ks_c_5601-1987?B?vsiz58fPvLy/5CCw7bC0tNQ=?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-8-i\r\n",
        "שלום".encode("iso8859-8"),
    )
    message = stored(channel, raw)
    assert Contact.objects.get(pk=message.sender_contact_id).name == "שלום"
    assert message.conversation.subject == "안녕하세요 고객님"
    assert message.text == "שלום"


def test_iso_2022_jp_with_its_later_extensions(channel):
    # ご注文 (plain JIS X 0208), then 第①回 (JIS X 0213) and ｻﾎﾟｰﾄ (half-width katakana).
    raw = mail(
        b"From: =?ISO-2022-JP?B?GyhJO05fMEQbKEI=?= <tanaka@example.jp>\r\n"
        b"To: help@support.example.com\r\n"
        b"Subject: =?ISO-2022-JP?B?GyRCJDRDbUo4GyhC?= =?ISO-2022-JP?B?GyRCQmgbJChRLSEbJEIycxsoQg==?=\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\n",
        b"\x1b$B$4CmJ8\x1b(B",
    )
    message = stored(channel, raw)
    assert message.conversation.subject == "ご注文第①回"
    assert Contact.objects.get(pk=message.sender_contact_id).name == "ｻﾎﾟｰﾄ"
    assert message.text == "ご注文"


@pytest.mark.parametrize(
    "subject, shown",
    [
        # Whitespace (folding included) between adjacent encoded-words is not part of the text.
        (b"=?UTF-8?Q?Hello?=   =?UTF-8?Q?World?=", "HelloWorld"),
        (b"=?UTF-8?Q?Hello?=\r\n =?UTF-8?Q?_World?=", "Hello World"),
        # ...but whitespace between an encoded-word and plain text is.
        (b"=?UTF-8?Q?Hello?= plain =?UTF-8?Q?again?=", "Hello plain again"),
        # A character split across two words in one charset survives.
        (b"=?UTF-8?B?w6k=?= =?UTF-8?B?8J+Y?= =?UTF-8?B?gA==?=", "é😀"),
    ],
)
def test_whitespace_between_adjacent_encoded_words(channel, subject, shown):
    raw = mail(
        b"From: a@example.com\r\nTo: help@support.example.com\r\nSubject: " + subject + b"\r\n"
    )
    assert stored(channel, raw).conversation.subject == shown


REALWORLD = Path(__file__).resolve().parents[3] / "fixtures" / "emails" / "realworld"


def test_an_attachment_name_in_rfc_2231_continuations_keeps_its_split_characters(channel):
    """Real mail from enmime's test suite (tests/fixtures/emails/realworld/SOURCES.tsv): an
    EUC-KR file name split over five continuations, one character cut between two of them."""
    raw = (REALWORLD / "enmime-long-filename-euckr.eml").read_bytes()
    message = stored(channel, raw)
    [attachment] = message.attachments.all()
    assert attachment.name == "한국 파일 이름이 매우 긴 첨부 파일입니다.pdf"
    assert message.text == "test"
