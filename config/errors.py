"""JSON errors under /api/ and /webhooks/; pages elsewhere."""

import sys

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """A 500, or a 503 with Retry-After when what failed was reaching the database (down, or
    every pooled connection busy past DB_POOL_TIMEOUT): the person or program can try again."""
    if isinstance(sys.exc_info()[1], OperationalError):
        return database_unavailable(request)
    if _wants_json(request):
        return JsonResponse({"detail": "Internal error; the request was logged."}, status=500)
    return html_server_error(request)


def bad_request(request, exception=None):
    """Django's own 400s (a malformed multipart body, too many fields)."""
    if _wants_json(request):
        return JsonResponse({"detail": "The request could not be read."}, status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


RETRY_SECONDS = 5


def database_unavailable(request):
    detail = "The database is busy or unreachable; try again in a few seconds."
    if _wants_json(request):
        response = JsonResponse({"code": "unavailable", "detail": detail}, status=503)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Try again</title><h1>Try again</h1><p>{detail}</p>",
            status=503,
        )
    response["Retry-After"] = str(RETRY_SECONDS)
    return response


def csrf_failure(request, reason=""):
    """A refused CSRF check (the page was opened before a logout or a new login): words a person
    can act on, as JSON for scripts (the draft saver) and as a page for forms."""
    detail = (
        "This page is out of date: you were signed out or signed in again since it was opened. "
        "Reload it and try again; text you were typing is kept as a draft."
    )
    accept = request.META.get("HTTP_ACCEPT", "")
    if (
        _wants_json(request)
        or "application/json" in accept
        or request.content_type == ("application/json")
    ):
        return JsonResponse({"code": "csrf_failed", "detail": detail}, status=403)
    from django.utils.html import escape

    back = escape(request.path)
    return HttpResponse(
        "<!doctype html><meta charset=utf-8><title>Out of date</title><h1>This page is out of "
        f'date</h1><p>{escape(detail)}</p><p><a href="{back}">Open it again</a></p>',
        status=403,
    )
