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
