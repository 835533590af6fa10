"""The djangojs catalogue (/jsi18n/) at an address that names its version, so that a browser keeps
it: every page load asked for it again, the one script of the page that came from Django, and
the page's own scripts waited for it before they ran."""

import hashlib
from functools import cache
from pathlib import Path

import django
from django.conf import settings
from django.utils.cache import patch_cache_control
from django.views.i18n import JavaScriptCatalog

YEAR = 365 * 24 * 3600


@cache
def catalog_version() -> str:
    """A digest of this project's compiled djangojs catalogues and Django's version (its own
    catalogue for formats): it changes whenever a translation the page's scripts use can."""
    digest = hashlib.sha256(django.get_version().encode())
    for locale_dir in sorted(Path(p) for p in settings.LOCALE_PATHS):
        for mo in sorted(locale_dir.glob("*/LC_MESSAGES/djangojs.mo")):
            digest.update(str(mo.relative_to(locale_dir)).encode())
            digest.update(mo.read_bytes())
    return digest.hexdigest()[:12]


def version(request) -> dict:
    """Template context: base.html writes ?l=<language>&v=<this> on the catalogue's address."""
    return {"JSI18N_VERSION": catalog_version()}


class VersionedJavaScriptCatalog(JavaScriptCatalog):
    """Asked for with the current version (and its language in ?l=), the answer is kept for a
    year; any other asking is answered as before, without that promise."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("v") == catalog_version():
            patch_cache_control(response, public=True, max_age=YEAR, immutable=True)
        return response
