"""A bound on how long a block may wait for PostgreSQL, for callers that must answer in time: the
webhook doors, whose providers give up after a few seconds and should hear 503 and retry.

The pool's timeout bounds the wait for a connection and `connect_timeout` a new one, but nothing
bounds a statement on a connection that is already open: `statement_timeout` is enforced by the
server, which is what stopped answering, and libpq has no read timeout (a hung host's kernel may
even go on acknowledging bytes). So past the deadline a watchdog thread shuts down the socket of
the connection the block uses; the statement waiting on it fails at once with an
OperationalError (a DatabaseError) and the connection is dropped, not returned to the pool. A
block that finishes in time is never touched.
"""

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator

from django.db import connections

logger = logging.getLogger(__name__)

# After the deadline, how often the watchdog looks again (a connection taken from the pool after
# it fired is cut too).
RECHECK_SECONDS = 0.05


def _shut(connection) -> bool:
    """Shut down the socket of a psycopg connection; False when there is none to shut."""
    try:
        fd = connection.pgconn.socket
    except Exception:  # closed, or not connected
        return False
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
        sock.shutdown(socket.SHUT_RDWR)
    return True


@contextlib.contextmanager
def database_deadline(seconds: float | None, using: str = "default") -> Iterator[None]:
    """Run the block with at most `seconds` of waiting on PostgreSQL (None, or another database:
    no bound). Past it, what the block waits on fails with a DatabaseError."""
    wrapper = connections[using]  # this thread's connection: the watchdog runs in another
    if not seconds or wrapper.vendor != "postgresql":
        yield
        return
    done = threading.Event()
    lock = threading.Lock()  # the block's end and a cut never overlap
    cut = threading.Event()

    def watch() -> None:
        if done.wait(seconds):
            return
        while True:
            with lock:
                if done.is_set():
                    return
                if wrapper.connection is not None and _shut(wrapper.connection):
                    if not cut.is_set():
                        logger.warning("database silent for %s s: connection cut", seconds)
                    cut.set()
            if done.wait(RECHECK_SECONDS):
                return

    watchdog = threading.Thread(target=watch, name="database-deadline", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        with lock:
            done.set()
        if cut.is_set():
            # Its socket is shut: closed, the pool drops it instead of handing it to another
            # request.
            with contextlib.suppress(Exception):
                wrapper.connection.close()
            with contextlib.suppress(Exception):
                wrapper.close()
