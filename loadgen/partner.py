"""The demo partner: the receiving end of the demo API channel's callback.

`seed_demo` points the `api` channel's callback_url here, so an agent's reply to a demo API
conversation makes a real signed round trip (the sender's SSRF guard lets it through only
because `make run` names 127.0.0.1 in WEBHOOK_ALLOWED_HOSTS). It checks the signature the way a
partner would and keeps the last few callbacks for the curious (GET shows them). Nothing else
in the product uses it.
"""

import json
import logging
from collections import deque

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox.intake.adapters import SignatureError
from inbox.intake.adapters.api import verify
from inbox.models import Channel

log = logging.getLogger(__name__)
RECEIVED: deque = deque(maxlen=20)  # this process's last callbacks, newest last


@csrf_exempt
@require_http_methods(["GET", "POST"])
def partner_callback(request):
    channel = Channel.objects.filter(slug="api", kind=Channel.Kind.API).first()
    if channel is None:
        return JsonResponse(
            {"detail": "No demo API channel: run `python manage.py seed_demo`."}, status=404
        )
    if request.method == "GET":
        return JsonResponse({"received": list(RECEIVED)})
    try:
        verify(request, channel)
    except SignatureError as exc:
        return JsonResponse({"detail": f"Signature refused: {exc}"}, status=401)
    try:
        body = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "The body is not JSON."}, status=400)
    RECEIVED.append(body)
    log.info(
        "demo partner received reply %s on conversation %s",
        body.get("id"),
        body.get("conversation"),
    )
    return JsonResponse({"received": body.get("id")})
