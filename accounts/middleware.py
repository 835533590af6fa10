"""Times on the agent's pages in the agent's own zone (User.time_zone), on every agents' page
(AGENT_PAGES) they are signed in to. The REST API keeps answering in UTC whoever asks."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.utils import timezone

# The agents' pages. Everything else (webhooks, the chat door, the API, probes, surveys) never
# reads the session for this: no user lookup on the hot paths, and in UTC.
AGENT_PAGES = ("/inbox/", "/reports/", "/settings/")


def _agent_page(path: str) -> bool:
    return path.startswith(AGENT_PAGES)


def _zone(user) -> ZoneInfo | None:
    if user is None or not user.is_authenticated or not user.time_zone:
        return None
    try:
        return ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class AgentTimeZoneMiddleware:
    """After AuthenticationMiddleware. Under ASGI it reads the user once, asynchronously, and
    hands it to request.user's cache, so the view does not read it again."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        zone = _zone(request.user) if _agent_page(request.path) else None
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)

    async def __acall__(self, request):
        if not _agent_page(request.path) or not hasattr(request, "auser"):
            return await self.get_response(request)
        user = await request.auser()
        request._cached_user = user  # what request.user (sync) reads first
        zone = _zone(user)
        if zone is None:
            return await self.get_response(request)
        with timezone.override(zone):
            return await self.get_response(request)
