"""Times on the agent's pages in the agent's own zone (User.time_zone) and words in the agent's
own language (User.language; empty: the browser's Accept-Language, which LocaleMiddleware has
already activated), on the agents' pages (AGENT_PAGES) they are signed in to. Nothing else
(webhooks, the chat door, the API, probes, surveys) reads the session for this: the REST API
keeps answering in UTC whoever asks, in the words of the request's Accept-Language."""

from contextlib import ExitStack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.utils import timezone, translation

# /jsi18n/: the catalogue those pages load for their scripts, in the same language.
AGENT_PAGES = ("/inbox/", "/reports/", "/settings/", "/jsi18n/")


def _agent_page(path: str) -> bool:
    return path.startswith(AGENT_PAGES)


def _zone(user) -> ZoneInfo | None:
    if user is None or not user.is_authenticated or not user.time_zone:
        return None
    try:
        return ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _language(user) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    language = getattr(user, "language", "")
    return language if language in dict(settings.LANGUAGES) else None


def _enter(stack: ExitStack, request, user) -> str | None:
    zone = _zone(user)
    if zone is not None:
        stack.enter_context(timezone.override(zone))
    language = _language(user)
    if language is not None:
        stack.enter_context(translation.override(language))
        request.LANGUAGE_CODE = language
    return language


def _label(response, language: str | None):
    # A view that chose its own language (the survey page) keeps its header.
    if language is not None:
        response.headers.setdefault("Content-Language", language)
    return response


class AgentTimeZoneMiddleware:
    """After AuthenticationMiddleware (and LocaleMiddleware). Under ASGI it reads the user once,
    asynchronously, and hands it to request.user's cache, so the view does not read it again."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if not _agent_page(request.path):
            return self.get_response(request)
        with ExitStack() as stack:
            language = _enter(stack, request, getattr(request, "user", None))
            return _label(self.get_response(request), language)

    async def __acall__(self, request):
        if not _agent_page(request.path) or not hasattr(request, "auser"):
            return await self.get_response(request)
        user = await request.auser()
        request._cached_user = user  # what request.user (sync) reads first
        with ExitStack() as stack:
            language = _enter(stack, request, user)
            return _label(await self.get_response(request), language)
