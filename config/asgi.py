import gc
import logging
import os
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does

from config.handler import OneHopASGIHandler  # noqa: E402

django_asgi_app = OneHopASGIHandler()
logger = logging.getLogger(__name__)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from config import embedded, scheduler  # noqa: E402
from config.routing import chat_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402
from core import redact  # noqa: E402

# Request URLs are logged (uvicorn's access log): secrets a client puts in one are scrubbed.
redact.install()


def http_app(django_app):
    """With INBOUND_ASGI_DOOR (PostgreSQL), inbound webhook POSTs are answered before Django's
    request cycle (inbox.intake.doors.asgi: async psycopg, group commit); everything else goes
    to Django."""
    from django.db import connection

    from core import fastpaths

    if not fastpaths.chosen("INBOUND_ASGI_DOOR", connection):
        return django_app
    from inbox.intake.doors.asgi import AcceptDoor

    return AcceptDoor(django_app)


def forget_process_metrics() -> None:
    """Multiprocess metrics: a web process that stops no longer counts in live gauges (its
    websockets are gone with it)."""
    from django.conf import settings

    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), settings.PROMETHEUS_MULTIPROC_DIR)


def warm_up() -> threading.Thread | None:
    """Load at start what an agent's first click would otherwise wait for: scikit-learn (about
    1.5 s to import) and the learned tag suggester's model, read when a conversation's suggested
    tags are shown. In a thread, so the process serves at once; a failure only logs (they load on
    first use as before)."""
    from django.conf import settings

    if not settings.TAG_SUGGESTER_ENABLED:
        return None

    def load() -> None:
        try:
            from tagging.learning import current_suggester

            current_suggester()
            gc.freeze()  # scikit-learn and the model stay too
        except Exception:
            logger.exception("warming the tag suggester up failed: it loads on first use")

    thread = threading.Thread(target=load, name="warm-up", daemon=True)
    thread.start()
    return thread


async def lifespan(scope, receive, send):
    """ASGI lifespan: start the embedded scheduler with the server, stop it on shutdown. In
    embedded mode a second web process is refused at startup (config/embedded.py): uvicorn then
    stops, all of its workers with it."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            refused = embedded.claim_web_process()
            if refused:
                logger.error(refused)
                await send({"type": "lifespan.startup.failed", "message": refused})
                return
            scheduler.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            scheduler.stop()
            forget_process_metrics()
            await send({"type": "lifespan.shutdown.complete"})
            return


def settle_heap() -> None:
    """What the process loads at start (Django, DRF, every view through the URL conf) lives as
    long as it does: out of the garbage collector's way (gc.freeze). Without it each full
    collection walked those ~180,000 objects, a pause of about 100 ms every few hundred requests
    that landed in the list API's p95 (docs/benchmarks.md, stop 29). The warm-up thread freezes
    what it loads too."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 (imports the URL conf and its views)
    gc.collect()
    gc.freeze()


settle_heap()
WARMING = warm_up()  # the thread, for tests to wait on

application = ProtocolTypeRouter(
    {
        "http": http_app(django_asgi_app),
        "websocket": URLRouter(
            [
                *chat_websocket_urlpatterns,
                re_path(
                    r"^",
                    AllowedHostsOriginValidator(
                        AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                    ),
                ),
            ]
        ),
        "lifespan": lifespan,
    }
)
