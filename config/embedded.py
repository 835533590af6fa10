"""Embedded mode serves from one web process.

Without Redis, the Channels layer is a dict in the process's memory and the periodic jobs run
on a thread of it (config/scheduler.py). Two web processes on the same data folder (uvicorn
`--workers 2`, WEB_CONCURRENCY=2, or `make run` started twice) would each have their own: a
browser connected to one would miss what the other does, and every sweep would run twice. So
the first web process takes a lock on the data folder at startup (ASGI lifespan, config/asgi.py)
and holds it while it lives; another one is refused with the reason. Distributed mode (REDIS_URL
set) takes no lock: there, run as many web processes as the host holds.
"""

import fcntl
import os
from typing import IO

from django.conf import settings

_held: IO[str] | None = None


def claim_web_process() -> str | None:
    """Take the data folder for this process. None when it may serve, else why it may not."""
    global _held
    if not settings.EMBEDDED or _held is not None:
        return None
    path = settings.DATA_DIR / "web.lock"
    handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        return (
            f"Embedded mode (REDIS_URL unset) runs ONE web process, and process {holder} already "
            f"serves {settings.DATA_DIR}: each process would have its own in-memory live-update "
            "layer and scheduler, so browsers would miss events and periodic jobs would run "
            "twice. Start uvicorn with one worker (no --workers, WEB_CONCURRENCY unset or 1), or "
            "configure REDIS_URL (distributed mode) to run several."
        )
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    _held = handle
    return None
