"""Attachments go through the configured Django storage only: with STORAGE_URL=s3://... they are
written to and read from an S3-compatible store (a real one here, moto's server on 127.0.0.1),
downloaded through the permission-checked view, and a file missing from the storage is a clear
404, never a 500."""

import uuid
from email import policy
from email.message import EmailMessage

import pytest
from django.test import Client

from config.settings import storage_from_url
from inbox.intake.doors.email import ingest_email
from inbox.models import Message
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory
from tests.support import s3

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(90)]

CONTENT = b"quarterly figures\n" + bytes(range(256)) * 40  # not text: bytes must come back equal


def mail_with_file(name: str, content: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg["To"] = "help@support.example.com"
    msg["Subject"] = "figures"
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    msg.set_content("see attached")
    msg.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes(policy=policy.SMTP)


@pytest.fixture(scope="module")
def s3_server():
    server = s3.S3Server()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    """A fresh bucket, and STORAGE_URL's storage pointing at it (credentials as boto3 reads
    them, from the environment)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.SECRET)
    name = f"attachments-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    url = f"s3://{name}/switchboard?endpoint={s3_server.url}&region={s3.REGION}"
    settings.STORAGES = {**settings.STORAGES, "default": storage_from_url(url)}
    return name


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_inbound_attachment_is_stored_in_the_bucket_and_downloaded_through_the_view(
    bucket, s3_server, settings
):
    team = TeamFactory(slug="support")
    channel = ChannelFactory(slug="help", address="help@support.example.com", default_team=team)
    ingest_email(channel=channel, raw=mail_with_file("figures.bin", CONTENT))
    attachment = Message.objects.get().attachments.get()

    stored = s3_server.client().get_object(Bucket=bucket, Key=f"switchboard/{attachment.file.name}")
    assert stored["Body"].read() == CONTENT
    assert not settings.MEDIA_ROOT.exists()  # nothing written to the local folder

    response = signed_in(AgentFactory(teams=[team])).get(
        f"/inbox/attachments/{attachment.pk}/download/"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert 'filename="figures.bin"' in response["Content-Disposition"]
    # The same file is refused to an agent who may not see the conversation.
    outsider = signed_in(AgentFactory(teams=[TeamFactory(slug="sales")]))
    assert outsider.get(f"/inbox/attachments/{attachment.pk}/download/").status_code == 404

    s3_server.client().delete_object(Bucket=bucket, Key=f"switchboard/{attachment.file.name}")
    missing = signed_in(AgentFactory(teams=[team])).get(
        f"/inbox/attachments/{attachment.pk}/download/"
    )
    assert missing.status_code == 404
    assert "missing from the file storage" in missing.json()["detail"]


def test_a_file_missing_from_the_local_folder_is_a_clear_404(settings):
    team = TeamFactory(slug="support")
    channel = ChannelFactory(slug="help", address="help@support.example.com", default_team=team)
    ingest_email(channel=channel, raw=mail_with_file("figures.bin", CONTENT))
    attachment = Message.objects.get().attachments.get()
    (settings.MEDIA_ROOT / attachment.file.name).unlink()

    response = signed_in(AgentFactory(teams=[team])).get(
        f"/inbox/attachments/{attachment.pk}/download/"
    )

    assert response.status_code == 404
    assert "missing from the file storage" in response.json()["detail"]


def test_storage_url_chooses_the_storage():
    assert storage_from_url("") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    s3_storage = storage_from_url(
        "s3://files/inbox?endpoint=http://127.0.0.1:9000&region=eu-west-1&addressing_style=path"
    )
    assert s3_storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3_storage["OPTIONS"] == {
        "bucket_name": "files",
        "location": "inbox",
        "endpoint_url": "http://127.0.0.1:9000",
        "region_name": "eu-west-1",
        "default_acl": None,
        "querystring_auth": True,
        "addressing_style": "path",
    }
