"""ESP inbound mail (django-anymail's views), closed until a webhook secret is configured.

anymail accepts unauthenticated posts when ANYMAIL["WEBHOOK_SECRET"] is unset (it only warns);
here every anymail route answers 401 until it is set, so a default install cannot be fed forged
mail.
"""

import functools

from django.conf import settings
from django.urls import URLPattern


def _requires_secret(view):
    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        from inbox.webhooks import error

        if not (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET"):
            return error(
                401, "not_configured", "ESP webhooks are off until ANYMAIL_WEBHOOK_SECRET is set."
            )
        return view(request, *args, **kwargs)

    guarded.csrf_exempt = True
    return guarded


def anymail_inbound_patterns() -> list:
    import anymail.urls

    return [
        URLPattern(p.pattern, _requires_secret(p.callback), p.default_args, p.name)
        for p in anymail.urls.urlpatterns
    ]
