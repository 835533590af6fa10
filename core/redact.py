"""Secrets out of log lines: query parameters that carry one (a chat token from an old widget,
Meta's hub.verify_token, any ...token, ...secret, ...password, api_key, ...signature) are
replaced by [redacted] in the lines of the loggers that write request URLs.

The product puts no secret in a URL (the chat widget offers its token as a websocket
subprotocol, HTTP calls send it in X-Chat-Token), but a client may still (a cached old widget,
a provider's handshake), and access logs are read and shipped by more people than the database.
"""

import logging
import re

# Loggers that write request URLs: uvicorn's access log and its websocket handshakes
# ("uvicorn.error"), Django's development server and Channels' (daphne) server.
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "django.server", "django.channels.server")

SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:[\w.-]*(?:token|secret|password|passwd|signature)|[\w.-]*api[_-]?key)=)"
    r"[^&;\s\"']*"
)


def scrub(text: str) -> str:
    """`text` with the value of every secret-looking query parameter replaced."""
    return SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Scrubs a record's message and its string arguments in place, so any formatter (uvicorn's
    access formatter unpacks the arguments) prints the scrubbed line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install() -> None:
    """Attach the filter to every URL logger (once). Called when the ASGI application loads,
    after the server and Django have configured logging."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
