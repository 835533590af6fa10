"""The API channel's request signature, both ways: `X-Signature: t=UNIX,v1=HEX`, HEX being
HMAC-SHA256(secret, "t.body"). Integrations sign what they post to us with it (inbox.intake.adapters.api
checks it) and we sign the callbacks we post to them (inbox.outbound.senders.api)."""

import hashlib
import hmac
import time


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value an integration sends; used by our tests and benchmarks too."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
