"""The chat widget's HTTP door (session start, the fallback post and poll, typing) and the demo
page. Cross-origin by design: every answer carries CORS headers for an allowed origin only, and
the session token travels in the `X-Chat-Token` header, never a cookie."""

import functools

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core import languages, safejson
from inbox import selectors
from inbox.chat import files as chat_files
from inbox.chat import service as chat

TOKEN_HEADER = "X-Chat-Token"


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def _with_cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Expose-Headers"] = "Retry-After"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


def _json_body(request) -> dict:
    limit = settings.CHAT_MAX_CHARS * 6 + 1024  # JSON escapes can grow each character to six
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit or len(request.body) > limit:
        raise chat.TooLong(f"A message can have at most {settings.CHAT_MAX_CHARS} characters.")
    if not request.body:
        return {}
    try:
        data = safejson.loads(request.body)
    except safejson.UnsafeJson as exc:
        raise chat.ChatError(_("The body must be JSON.")) from exc
    if not isinstance(data, dict):
        raise chat.ChatError(_("The body must be a JSON object."))
    return data


def chat_door(*methods):
    """Find the chat channel by public key (404), check the Origin (403), answer preflights,
    turn ChatError into {"code", "detail"} with its status (and Retry-After on 429)."""

    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def door(request, public_key):
            origin = request.headers.get("Origin", "")
            channel = chat.chat_channel_by_key(public_key)
            if channel is None:
                return _with_cors(_error(404, "unknown_channel", "No such chat channel."), "")
            try:
                chat.check_origin(channel, origin=origin, own_host=request.get_host())
            except chat.ForeignOrigin as exc:
                return _with_cors(_error(exc.status, exc.code, str(exc)), "")
            if request.method == "OPTIONS":
                return _with_cors(HttpResponse(status=204), origin)
            if request.method not in methods:
                return _with_cors(_error(405, "method_not_allowed", "Method not allowed."), origin)
            try:
                response = view(request, channel)
            except chat.ChatError as exc:
                response = _error(exc.status, exc.code, str(exc))
                if isinstance(exc, chat.RateLimited):
                    response["Retry-After"] = str(exc.retry_after)
            return _with_cors(response, origin)

        return door

    return wrap


def _session(request, channel) -> chat.ChatSession:
    return chat.read_token(channel, request.headers.get(TOKEN_HEADER, ""))


@chat_door("POST")
def session_start(request, channel):
    """Start or resume a session: {"token"?, "name"?, "email"?, "language"?} -> the session and
    its history. Without "language", the browser's Accept-Language says it."""
    data = _json_body(request)
    language = data.get("language") if isinstance(data.get("language"), str) else ""
    session = chat.start_session(
        channel=channel,
        token=str(data.get("token") or ""),
        name=data["name"] if isinstance(data.get("name"), str) else None,
        email=data["email"] if isinstance(data.get("email"), str) else None,
        language=language or languages.from_accept_language(request.headers.get("Accept-Language")),
    )
    return JsonResponse(chat.session_snapshot(session))


@chat_door("GET", "POST")
def session_messages(request, channel):
    """GET ?after=ID: new messages (the fallback poll). POST {"text", "id"?}: a visitor message."""
    session = _session(request, channel)
    if request.method == "GET":
        try:
            after = max(0, int(request.GET.get("after") or 0))
        except ValueError:
            after = 0
        return JsonResponse(chat.poll_session(session, after=after))
    data = _json_body(request)
    if not isinstance(data.get("text"), str):
        raise chat.ChatError("text: required string")
    shown = chat.post_visitor_message(
        session=session, text=data["text"], client_id=str(data.get("id") or "")
    )
    return JsonResponse({"message": shown}, status=201)


@chat_door("POST")
def session_files(request, channel):
    """POST multipart/form-data with one `file` (and an optional `id`): a visitor's file, stored
    as an inbound message with that file attached. 413 over the size limit (checked on the
    declared length before the body is read), 415 for a type the chat does not take."""
    session = _session(request, channel)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > chat_files.max_bytes() + 64 * 1024:  # the file plus the form's own bytes
        raise chat_files.FileTooLarge(
            _("Files can be at most %(limit)s.")
            % {"limit": chat_files.size_words(chat_files.max_bytes())}
        )
    if not request.content_type.startswith("multipart/form-data"):
        raise chat.ChatError(_("Send the file as multipart/form-data in a field named “file”."))
    try:
        uploads = request.FILES.getlist("file")
    except (MultiPartParserError, SuspiciousOperation) as exc:
        raise chat.ChatError(_("The file could not be read from the form.")) from exc
    if len(uploads) != 1:
        raise chat.ChatError(_("Send exactly one file, in a field named “file”."))
    upload = uploads[0]
    shown = chat_files.post_visitor_file(
        session=session,
        name=upload.name or "file",
        declared=upload.content_type or "",
        content=upload.read(chat_files.max_bytes() + 1),
        client_id=str(request.POST.get("id") or ""),
    )
    return JsonResponse({"message": shown}, status=201)


@chat_door("POST")
def session_typing(request, channel):
    chat.signal_visitor_typing(session=_session(request, channel))
    return HttpResponse(status=204)


def demo_page(request):
    """A plain page embedding the widget for the seeded `chat` channel."""
    channel = chat.chat_channel_by_slug("chat")
    if channel is None:
        raise Http404("No chat channel with slug 'chat': run `python manage.py seed_demo`.")
    return render(request, "chat/demo.html", {"channel": channel})


class ConversationTypingApi(APIView):
    """POST /api/v1/conversations/{id}/typing/: the agent is typing a reply; the visitor of a
    chat conversation sees it. Transient: nothing is stored. 404 if the conversation is not
    visible to the agent, 403 if they may not reply to it."""

    @extend_schema(request=None, responses={204: None}, operation_id="conversations_typing")
    def post(self, request, pk):
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        chat.signal_agent_typing(conversation_id=conversation.pk, actor=request.user)
        return Response(status=204)
