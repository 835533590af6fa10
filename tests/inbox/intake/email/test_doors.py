"""The raw webhook door, the ingest_email command, quarantine, bounces and the admin's
download of the original mail."""

import io

import pytest
from django.core.management import CommandError, call_command

from inbox.intake.adapters.email import sign
from inbox.intake.doors.email import ingest_email
from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = pytest.mark.django_db

SECRET = "mail-secret"


@pytest.fixture
def channel():
    return ChannelFactory(slug="help", address="help@support.example.com", secret=SECRET)


def post_raw(client, body, *, signature=None, content_type="message/rfc822", slug="help"):
    return client.post(
        f"/webhooks/email/{slug}/raw",
        data=body,
        content_type=content_type,
        HTTP_X_SIGNATURE=signature if signature is not None else sign(SECRET, body),
    )


def test_raw_webhook_stores_and_processes_the_mail(
    client, channel, django_capture_on_commit_callbacks
):
    body = raw_mail()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, body)

    assert response.status_code == 202
    event = InboundEvent.objects.get()
    assert bytes(event.body) == body
    assert event.status == InboundEvent.Status.PROCESSED
    assert Message.objects.get().text.strip() == "Hello, my printer is on fire."


def test_raw_webhook_with_a_bad_signature_is_refused(client, channel):
    response = post_raw(client, raw_mail(), signature="sha256=" + "0" * 64)

    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists()


def test_raw_webhook_with_the_wrong_content_type_is_415(client, channel):
    response = post_raw(client, b'{"not": "mail"}', content_type="application/json")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not InboundEvent.objects.exists()


def test_raw_webhook_for_an_unknown_channel_is_404(client, channel):
    assert post_raw(client, raw_mail(), slug="nope").status_code == 404


def test_ingest_email_command_prints_one_line_per_file_in_order(channel, tmp_path):
    first = tmp_path / "a.eml"
    first.write_bytes(raw_mail(message_id="a@example.com"))
    junk = tmp_path / "b.eml"
    junk.write_bytes(b"\x00\x01 not a mail at all")
    out = io.StringIO()

    call_command("ingest_email", "--channel", "help", str(first), str(junk), str(first), stdout=out)

    conversation_id = Message.objects.get().conversation_id
    lines = out.getvalue().splitlines()
    assert lines[0] == f"ok {conversation_id}"
    assert lines[1].startswith("quarantined ")
    assert lines[2] == f"duplicate {conversation_id}"
    assert InboundEvent.objects.filter(status="failed").count() == 1


def test_ingest_email_command_reads_stdin(channel, monkeypatch):
    class Stdin:
        buffer = io.BytesIO(raw_mail())

    monkeypatch.setattr("sys.stdin", Stdin)
    out = io.StringIO()

    call_command("ingest_email", "--channel", "help", "-", stdout=out)

    assert out.getvalue().startswith("ok ")


def test_ingest_email_command_refuses_an_unknown_channel(channel, tmp_path):
    with pytest.raises(CommandError):
        call_command("ingest_email", "--channel", "nope", str(tmp_path / "x.eml"))


def test_unparseable_mail_is_quarantined_and_listed_for_admins(channel, client_for, admin_user):
    result = ingest_email(channel=channel, raw=b"Subject: no sender\r\n\r\nbody\r\n")

    assert result.outcome == "quarantined"
    assert "no sender" in result.reason
    listed = client_for(admin_user).get("/api/v1/inbound-events/?status=failed").json()
    assert listed["results"][0]["error"].endswith(
        "no sender address (From, Sender, Reply-To, Return-Path)"
    )


def test_deeply_nested_mail_is_quarantined_not_hung(channel, settings):
    settings.EMAIL_MAX_DEPTH = 20
    raw = b"From: a@example.com\r\nMessage-ID: <deep@x>\r\n"
    for level in range(60):
        raw += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    raw += b"Content-Type: text/plain\r\n\r\nhi\r\n"

    result = ingest_email(channel=channel, raw=raw)

    assert result.outcome == "quarantined"
    assert "nest" in result.reason


def test_hostile_html_keeps_the_text_and_loses_every_active_part(channel):
    html = (
        '<p onclick="steal()">Please <b>help</b> me</p><script>alert(1)</script>'
        '<a href="javascript:alert(2)">click</a><iframe src="https://evil.example"></iframe>'
        '<form action="https://evil.example"><input name="pw"></form>'
        '<img src="https://tracker.example/pixel.gif" onerror="x()">'
        '<svg onload="alert(3)"></svg><a href="https://ok.example/">ok</a>'
    )
    ingest_email(channel=channel, raw=raw_mail(text="Please help me", html=html))

    stored = Message.objects.get().html.lower()
    for banned in (
        "<script",
        "onclick",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<form",
        "<input",
        "<svg",
        ' src="https://tracker',
    ):
        assert banned not in stored
    assert "please <b>help</b> me" in stored
    assert 'data-remote-src="https://tracker.example/pixel.gif"' in stored
    assert 'href="https://ok.example/"' in stored


def test_bounce_of_our_reply_marks_that_reply_failed(channel):
    conversation = ConversationFactory(channel=channel)
    reply = MessageFactory(
        conversation=conversation,
        direction="out",
        external_id="reply-1@support.example.com",
        delivery_status="sent",
    )
    dsn = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        b"To: help@support.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-1@mx.example.net>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n"
        b"\r\nFinal-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        b"--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: help@support.example.com\r\n"
        b"To: gone@example.com\r\nMessage-ID: <reply-1@support.example.com>\r\nSubject: Re: hi\r\n"
        b"\r\nOur answer\r\n--B--\r\n"
    )

    result = ingest_email(channel=channel, raw=dsn)

    assert result.outcome == "ok"
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert reply.delivery_error == "gone@example.com: smtp; 550 5.1.1 user unknown"
    assert Message.objects.get(external_id="dsn-1@mx.example.net").auto_kind == "bounce"


def test_only_an_admin_downloads_the_original_mail(channel, client_for, admin_user, agent):
    body = raw_mail()
    ingest_email(channel=channel, raw=body)
    message = Message.objects.get()

    response = client_for(admin_user).get(f"/api/v1/messages/{message.pk}/original")

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response.content == body
    assert client_for(agent).get(f"/api/v1/messages/{message.pk}/original").status_code == 404
    assert client_for(admin_user).get("/api/v1/messages/999999/original").status_code == 404


def test_message_api_folds_the_quoted_history_of_a_reply(channel, client_for, admin_user):
    text = (
        "Thanks, that worked!\n\n"
        "On Mon, 3 Mar 2026 at 10:00, Support <help@support.example.com> wrote:\n"
        "> Try turning it off."
    )
    ingest_email(channel=channel, raw=raw_mail(text=text))
    message = Message.objects.get()

    shown = (
        client_for(admin_user)
        .get(f"/api/v1/conversations/{message.conversation_id}/messages/")
        .json()[0]
    )

    assert shown["text"].strip() == text
    assert shown["folded"]["body"] == "Thanks, that worked!"
    assert shown["folded"]["quoted"].startswith("On Mon, 3 Mar 2026")


def mail_with_files(*files: tuple[str, str, bytes]) -> bytes:
    from email import policy
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["To"] = "help@support.example.com"
    msg["Subject"] = "files"
    msg["Message-ID"] = "<files@example.com>"
    msg.set_content("see attached")
    for name, content_type, content in files:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(policy=policy.SMTP)


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 64


def test_attachments_over_the_per_file_and_per_mail_limits_are_listed_not_stored(channel, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    settings.ATTACHMENT_MAX_TOTAL_BYTES = 1500
    raw = mail_with_files(
        ("a.bin", "application/octet-stream", b"a" * 900),
        ("huge.bin", "application/octet-stream", b"h" * 1001),
        ("b.bin", "application/octet-stream", b"b" * 900),
        ("c.png", "image/png", PNG),
    )

    ingest_email(channel=channel, raw=raw)

    message = Message.objects.get()
    assert sorted(message.attachments.values_list("name", flat=True)) == ["a.bin", "c.png"]
    skipped = {s["name"]: s["reason"] for s in message.headers["x-switchboard-skipped-attachments"]}
    assert skipped == {"huge.bin": "over the size limit", "b.bin": "over the per-message limit"}


def test_attachment_names_never_become_paths(channel):
    raw = mail_with_files(("../../etc/passwd", "text/plain", b"root:x:0:0"))

    ingest_email(channel=channel, raw=raw)

    attachment = Message.objects.get().attachments.get()
    assert "/" not in attachment.name and ".." not in attachment.name
    assert attachment.file.name.startswith("attachments/")
    assert "passwd" not in attachment.file.name


def test_an_executable_declared_as_an_image_is_stored_as_octet_stream(channel):
    raw = mail_with_files(("cat.png", "image/png", b"MZ\x90\x00" + b"\x00" * 60))

    ingest_email(channel=channel, raw=raw)

    message = Message.objects.get()
    assert message.attachments.get().content_type == "application/octet-stream"
    assert message.headers["x-switchboard-type-mismatch"][0]["declared"] == "image/png"


def test_a_genuine_png_keeps_its_type(channel):
    ingest_email(channel=channel, raw=mail_with_files(("c.png", "image/png", PNG)))

    assert Message.objects.get().attachments.get().content_type == "image/png"


def test_a_mail_with_thousands_of_parts_is_quarantined_quickly(channel, settings):
    settings.EMAIL_MAX_PARTS = 500
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    raw = (
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + part * 50_000
        + b"--b--\r\n"
    )

    result = ingest_email(channel=channel, raw=raw)

    assert result.outcome == "quarantined"
    assert "more than 500 MIME parts" in result.reason


def test_the_same_mail_posted_twice_to_the_webhook_makes_one_message(
    client, channel, django_capture_on_commit_callbacks
):
    body = raw_mail(message_id="twice@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_raw(client, body).status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        assert post_raw(client, body).status_code == 202

    assert Message.objects.count() == 1
    assert sorted(InboundEvent.objects.values_list("status", flat=True)) == [
        "duplicate",
        "processed",
    ]
