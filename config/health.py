import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """The process is up. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """The database, and the broker when one is configured, answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if not settings.EMBEDDED:
        try:
            redis.Redis.from_url(
                settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1
            ).ping()
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
