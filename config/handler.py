"""Django's ASGI handler, with the request's sync work done in one hop to a thread.

Django builds an async middleware chain under ASGI. Ours is sync (Django's own middleware runs
each hook through `sync_to_async` in async mode, so a sync chain is the cheaper of the two), and
Django then hops three times per request: into a thread for the chain, back to the event loop
(`async_to_sync`) for the async core handler, and into a thread again for the sync view. Each hop
copies the request's context and wakes a thread. Here the chain is built for sync mode and the
whole of it, view included, runs in one `sync_to_async` call; the ASGI side (reading the body,
sending the response, the disconnect watch) is Django's own.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
