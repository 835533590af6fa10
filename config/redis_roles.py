"""Redis's three jobs in distributed mode, each at its own URL: the Celery broker (and result
store), the cache, the Channels layer. REDIS_URL is the default for all three; none set at all is
embedded mode (in-process layer and cache, tasks run in the web process)."""

import os

from django.core.exceptions import ImproperlyConfigured

ROLES = ("CELERY_BROKER_URL", "CACHE_URL", "CHANNEL_LAYER_URL")


def urls(redis_url: str) -> tuple[str, str, str, bool]:
    """(broker, cache, layer, embedded). Some roles set without REDIS_URL and the others left
    out is refused: a worker beside an in-process layer or cache would lose live updates and
    rate counts without a word."""
    found = {name: os.environ.get(name) or redis_url for name in ROLES}
    embedded = not any(found.values())
    if not embedded and not all(found.values()):
        raise ImproperlyConfigured(
            "Set REDIS_URL, or all of CELERY_BROKER_URL, CACHE_URL and CHANNEL_LAYER_URL; "
            "missing: " + ", ".join(name for name, url in found.items() if not url)
        )
    return found["CELERY_BROKER_URL"], found["CACHE_URL"], found["CHANNEL_LAYER_URL"], embedded


def caches(cache_url: str) -> dict:
    if not cache_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            # Django's Redis backend with one connection pool per process (core/cache.py).
            "BACKEND": "core.cache.SharedPoolRedisCache",
            "LOCATION": cache_url,
            "KEY_PREFIX": "switchboard",
        }
    }


def channel_layers(layer_url: str) -> dict:
    if not layer_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # capacity: frames queued per browser before the layer drops them (default 100); a
            # burst past it is still recovered by the feed's ?since= replay on reconnect.
            "CONFIG": {
                "hosts": [
                    {
                        "address": layer_url,
                        # Each socket's receive is a blocking BZPOPMIN of 5 s; redis-py 8 reads
                        # with a 5 s socket timeout by default, so an idle socket's wait raced
                        # the timeout and the socket closed. The read timeout exceeds the wait
                        # (an idle socket stays open indefinitely) yet still ends a read from a
                        # Redis gone silent. Query arguments in the URL override both.
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                    }
                ],
                "prefix": "switchboard",
                "capacity": 1000,
            },
        }
    }
