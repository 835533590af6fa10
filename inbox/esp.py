"""ESP inbound mail (django-anymail's views), closed until a webhook secret is configured.

anymail accepts unauthenticated posts when ANYMAIL["WEBHOOK_SECRET"] is unset (it only warns);
here every anymail route answers 401 until it is set, so a default install cannot be fed forged
mail. A request that fails anymail's own checks (basic auth, an ESP's signature) answers 401 with
a JSON `code` like every other webhook, and is logged; anymail alone would answer a bare 400.
A body over INBOUND_MAX_BYTES is 413, and one anymail cannot read (not JSON, missing fields, a
shape the ESP never sends) is 400 `malformed`: anymail alone would answer those with a 500.
"""

import functools
import logging

from django.conf import settings
from django.db import DatabaseError
from django.urls import URLPattern

logger = logging.getLogger("inbox.webhooks")


def _requires_secret(view):
    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        from anymail.exceptions import AnymailWebhookValidationFailure

        from inbox.webhooks import error

        if not (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"):
            return error(
                401, "not_configured", "ESP webhooks are off until ANYMAIL_WEBHOOK_SECRET is set."
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.INBOUND_MAX_BYTES:
            return error(413, "too_large", f"Body over {settings.INBOUND_MAX_BYTES} bytes.")
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            logger.warning("rejected ESP webhook %s: %s", request.path, exc)
            return error(401, "bad_signature", str(exc) or "Webhook authentication failed.")
        except DatabaseError:
            logger.exception("could not store ESP webhook %s", request.path)
            return error(503, "unavailable", "Storage is unavailable; retry later.")
        except Exception as exc:  # anymail parsing a body its ESP would never send
            logger.warning("malformed ESP webhook %s: %r", request.path, exc)
            return error(
                400, "malformed", f"The ESP payload could not be read ({type(exc).__name__})."
            )

    guarded.csrf_exempt = True
    return guarded


def anymail_inbound_patterns() -> list:
    import anymail.urls

    return [
        URLPattern(p.pattern, _requires_secret(p.callback), p.default_args, p.name)
        for p in anymail.urls.urlpatterns
    ]
