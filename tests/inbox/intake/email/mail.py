"""Raw RFC 822 mails for tests, built with the stdlib as a mail client would send them."""

from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from django.utils import timezone


def raw_mail(
    *,
    sender: str = "Ann Customer <ann@example.com>",
    to: str = "help@support.example.com",
    subject: str = "Printer on fire",
    text: str = "Hello, my printer is on fire.",
    html: str | None = None,
    message_id: str | None = "m1@example.com",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes(policy=policy.SMTP)  # CRLF, as mail travels
