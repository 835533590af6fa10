"""The API's documentation pages (Swagger UI, Redoc) under the app's own Content-Security-Policy:
their assets come from drf-spectacular-sidecar's static files, their start-up scripts from
static/api_docs/ (no inline script), and no third-party fonts or CDN.

Redoc builds its styles at run time (styled-components writes <style> elements), which
`style-src 'self'` refuses; its page gets the same policy plus a fresh nonce for styles only,
handed to Redoc's `nonce` option, and `worker-src blob:` for the worker its search runs in.
Scripts stay 'self' only."""

import secrets

from django.conf import settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from config.csp import DEFAULT_POLICY


class SwaggerDocsView(SpectacularSwaggerView):
    template_name = "api_docs/swagger.html"


class RedocDocsView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        nonce = secrets.token_urlsafe(18)
        response = super().get(request, *args, **kwargs)
        response.data["style_nonce"] = nonce
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY)
        response["Content-Security-Policy"] = policy.replace(
            "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'", 1
        )
        # Its search index is built in a worker it starts from a blob of its own code.
        response["Content-Security-Policy"] += "; worker-src 'self' blob:"
        return response
