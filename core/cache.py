"""Django's Redis cache with one connection pool per process.

Django keeps a cache object per thread and per async context, and its Redis client opens a new
connection pool for each: under an ASGI server every request (a new context) paid a TCP connect
and handshake to Redis before its first cache call. Here the pools are shared by every cache
object of the process (keyed by process id, so forked workers make their own).
"""

import functools
import os
import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_pools: dict = {}
_lock = threading.Lock()


class SharedPoolClient(RedisCacheClient):
    """RedisCacheClient whose connection pools are shared by every cache of a process (one per
    server and process id). It reads Django's private attributes, which the stubs leave out."""

    _servers: list[str]
    _pool_class: Any
    _pool_options: dict

    def _get_connection_pool_index(self, write: bool) -> int:
        return super()._get_connection_pool_index(write)  # type: ignore[misc]

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], os.getpid())
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    _pools[key] = pool
        return pool


class SharedPoolRedisCache(RedisCache):
    _servers: list[str]
    _options: dict

    @cached_property
    def _cache(self):
        return SharedPoolClient(self._servers, **self._options)

    def count_in_window(self, key: str, window: int) -> int:
        """INCR a counter and give it a lifetime of `window` + 1 s, in one round trip."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window + 1)
        return pipe.execute()[0]


@functools.cache
def shared():
    """One cache object for the whole process, for hot paths (every inbound webhook): Django's
    `cache` proxy builds a new backend object per thread and async context, which costs more
    than the Redis round trip itself. Both backends configured here are thread-safe."""
    from django.core.cache import DEFAULT_CACHE_ALIAS, caches

    return caches.create_connection(DEFAULT_CACHE_ALIAS)
