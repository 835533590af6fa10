"""JSON errors under /api/ and /webhooks/; pages elsewhere."""

from django.http import JsonResponse
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Internal error; the request was logged."}, status=500)
    return html_server_error(request)


def bad_request(request, exception=None):
    """Django's own 400s (a malformed multipart body, too many fields)."""
    if _wants_json(request):
        return JsonResponse({"detail": "The request could not be read."}, status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)
