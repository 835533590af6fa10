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
