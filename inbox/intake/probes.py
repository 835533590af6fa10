"""Connection tests for channel set-up (inbox.channel_settings) that use the way in: an IMAP
login to the mailbox an email channel polls, and Meta's verify-token round trip through the very
door Meta calls. Registered from inbox.apps."""

import secrets

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from inbox.channel_settings import Check
from inbox.models import Channel


def probe_imap(channel: Channel, url: str) -> list[Check]:
    from inbox.intake.doors.email import ImapNotConfigured, _imap_settings, _open_mailbox

    step = _("IMAP login")
    try:
        imap = _imap_settings(channel)
    except ImapNotConfigured:
        return [Check(step, True, _("No IMAP mailbox: mail arrives by webhook only."))]
    try:
        with _open_mailbox(imap) as box:
            box.folder.status()
    except Exception as exc:  # imap_tools raises its own errors, socket errors and timeouts
        return [Check(step, False, f"{imap['host']}: {exc}")]
    return [Check(step, True, f"{imap['username']}@{imap['host']}")]


def probe_meta(channel: Channel, url: str) -> list[Check]:
    """Ask our own webhook door what Meta asks when the URL is saved: hub.mode=subscribe with
    the verify token and a random challenge; it must echo the challenge."""
    from inbox.intake.doors.http import meta_webhook

    step = _("Verify token")
    token = str((channel.config or {}).get("verify_token") or "")
    if not token:
        return [Check(step, False, _("No verify token."))]
    challenge = secrets.token_hex(8)
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(mutable=True)
    request.GET.update({"hub.mode": "subscribe", "hub.verify_token": token})
    request.GET["hub.challenge"] = challenge
    response = meta_webhook(request, channel.slug)
    body = getattr(response, "content", b"").decode(errors="replace")
    if response.status_code == 200 and body == challenge:
        return [Check(step, True, _("%(url)s echoed the challenge.") % {"url": url})]
    return [Check(step, False, f"{response.status_code}: {body[:200]}")]
