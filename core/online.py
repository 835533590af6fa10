"""Who has the workspace open: a count of each user's open agent feed sockets and when one last
opened or closed, in the cache (shared by every process when CACHE_URL is Redis).

Used to decide whether a notification should also be mailed. A process that dies without closing
its sockets leaves its count behind; the count expires a day after the last change.
"""

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

COUNT_TTL = 24 * 3600
SEEN_TTL = 24 * 3600


def _count_key(user_id: int) -> str:
    return f"online.sockets.{user_id}"


def _seen_key(user_id: int) -> str:
    return f"online.seen.{user_id}"


async def socket_opened(user_id: int) -> None:
    try:
        await _opened(user_id)
    except Exception:  # the cache is down: the feed works, mails may go to someone online
        logger.exception("could not record an open feed socket")


async def socket_closed(user_id: int) -> None:
    try:
        await _closed(user_id)
    except Exception:
        logger.exception("could not record a closed feed socket")


async def _opened(user_id: int) -> None:
    key = _count_key(user_id)
    await cache.aadd(key, 0, COUNT_TTL)
    try:
        await cache.aincr(key)
    except ValueError:  # expired between the two calls
        await cache.aset(key, 1, COUNT_TTL)
    await cache.atouch(key, COUNT_TTL)
    await cache.aset(_seen_key(user_id), time.time(), SEEN_TTL)


async def _closed(user_id: int) -> None:
    key = _count_key(user_id)
    try:
        if await cache.adecr(key) < 0:
            await cache.aset(key, 0, COUNT_TTL)
    except ValueError:
        pass
    await cache.aset(_seen_key(user_id), time.time(), SEEN_TTL)


def away(user_ids: list[int], *, quiet_seconds: float) -> set[int]:
    """Those of these users with no open feed socket and none open or closed for `quiet_seconds`
    (a page reload closes and reopens its socket: that person is not away)."""
    keys = {_count_key(u): u for u in user_ids} | {_seen_key(u): u for u in user_ids}
    values = cache.get_many(list(keys))
    now = time.time()
    found = set()
    for user_id in user_ids:
        sockets = values.get(_count_key(user_id)) or 0
        seen = values.get(_seen_key(user_id))
        if sockets <= 0 and (seen is None or now - float(seen) >= quiet_seconds):
            found.add(user_id)
    return found
