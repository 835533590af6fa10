import datetime as dt

import pytest
from django.utils import timezone

from inbox.intake.receive import receive_message
from inbox.normalized import NormalizedMessage, SenderRef
from tests.inbox.factories import ChannelFactory


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that Django's SMTP backend sends to."""
    from tests.support.smtp import LocalSMTPServer

    with LocalSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 5
        yield server


@pytest.fixture
def email_channel(team):
    return ChannelFactory(
        kind="email",
        slug="help",
        name="Acme Support",
        address="help@support.example.com",
        default_team=team,
    )


@pytest.fixture
def inbound(email_channel):
    """Store a customer's mail through receive_message, as the inbound adapter does."""

    def receive(
        message_id,
        text,
        *,
        sender="jane@customer.example",
        name="Jane Doe",
        subject="Printer on fire",
        references=(),
        reply_token=None,
        auto_kind="",
        headers=None,
        channel=None,
    ):
        return receive_message(
            channel=channel or email_channel,
            message=NormalizedMessage(
                channel_kind="email",
                external_id=message_id,
                thread_key=None,
                sender=SenderRef(kind="email", id=sender, name=name, email=sender, verified=True),
                text=text,
                html=None,
                attachments=(),
                sent_at=timezone.now() - dt.timedelta(seconds=1),
                subject=subject,
                references=tuple(references),
                reply_token=reply_token,
                auto_kind=auto_kind,
                headers=headers if headers is not None else {"From": f"{name} <{sender}>"},
            ),
        )

    return receive
