"""Drafts and the session, as JSON for static/js/drafts.js: the reply and note boxes save what
the agent types here, and the page asks whether it is still signed in. A request without a
session is answered 401 with the login URL that comes back to the conversation, never a
redirect to the login page (a script cannot follow that to anything useful)."""

from functools import wraps
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import can_write
from core import safejson
from core.errors import ActionRefused
from inbox import drafts, groups, selectors

SIGNED_OUT = "You are signed out. Your text is kept on this device; log in again to send it."


def login_url(next_path: str) -> str:
    return f"{reverse('login')}?{urlencode({'next': next_path})}"


def signed_out(next_path: str) -> JsonResponse:
    return JsonResponse(
        {"code": "signed_out", "detail": SIGNED_OUT, "login_url": login_url(next_path)},
        status=401,
    )


def json_login_required(view):
    """login_required for JSON endpoints: 401 with words and a login link instead of a 302."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            back = request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
                back = reverse("ui:inbox")
            if "pk" in kwargs:
                back = reverse("ui:conversation", args=[kwargs["pk"]])
            return signed_out(back)
        return view(request, *args, **kwargs)

    return wrapped


def _draft_json(draft, kind: str) -> dict:
    return {
        "kind": kind,
        "text": draft.text if draft else "",
        "updated_at": draft.updated_at.isoformat() if draft else None,
    }


@json_login_required
@require_http_methods(["GET", "PUT", "POST", "DELETE"])
def draft(request, pk):
    """GET the agent's draft of `kind` (message or note) on a conversation they can see; PUT or
    POST `{"kind", "text"}` saves it (an empty text deletes it); DELETE removes it. Another
    agent's draft is never visible: drafts are looked up by the signed-in user."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    if request.method == "GET":
        kind = request.GET.get("kind", "message")
        body: dict = {"kind": kind}
    elif not can_write(request.user):
        return JsonResponse(
            {"detail": _("Your role is read-only: it writes no replies or notes.")}, status=403
        )
    else:
        try:
            body = safejson.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse(
                {"detail": _("The draft could not be read (not JSON).")}, status=400
            )
        if not isinstance(body, dict):
            return JsonResponse({"detail": _('Send an object: {"kind", "text"}.')}, status=400)
        kind = body.get("kind", "message")
    if kind not in drafts.KINDS:
        return JsonResponse(
            {"detail": _("A draft is for a reply (message) or a private note (note).")}, status=400
        )
    if request.method == "GET":
        found = drafts.draft_get(user=request.user, conversation=conversation, kind=kind)
        return JsonResponse(_draft_json(found, kind))
    if request.method == "DELETE":
        drafts.delete_draft(user=request.user, conversation=conversation, kind=kind)
        return JsonResponse(_draft_json(None, kind))
    text = body.get("text", "")
    if not isinstance(text, str):
        return JsonResponse({"detail": _("The draft's text must be a string.")}, status=400)
    try:
        saved = drafts.save_draft(
            user=request.user, conversation=conversation, kind=kind, text=text
        )
    except ActionRefused as exc:
        return JsonResponse(
            {"code": "too_long", "detail": str(exc), "limit": drafts.MAX_TEXT}, status=400
        )
    return JsonResponse(_draft_json(saved, kind))


@json_login_required
@require_GET
def session_state(request):
    """Whether this browser is still signed in (the page checks when it regains focus)."""
    return JsonResponse({"signed_in": True, "username": request.user.get_username()})


class LogoutView(auth_views.LogoutView):
    """Django's logout, then the live feed sockets of this browser session are closed (the
    consumer closes with 4401), so every open tab learns at once that it is signed out."""

    def post(self, request, *args, **kwargs):
        user_id, key = request.user.pk, request.session.session_key
        response = super().post(request, *args, **kwargs)
        layer = get_channel_layer()
        if user_id is not None and layer is not None:
            message = {"type": "feed.session_ended", "session_key": key}
            async_to_sync(layer.group_send)(groups.user(user_id), message)
        return response
