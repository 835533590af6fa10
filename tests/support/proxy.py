"""A TCP proxy on 127.0.0.1 between the application under test and PostgreSQL or Redis, so a test
can take the service away from the application without stopping the machine's shared server.

    with TCPProxy("127.0.0.1", 5432) as proxy:
        url = f"postgres://postgres@127.0.0.1:{proxy.port}/name"
        proxy.cut()         # close every open connection and refuse new ones (ECONNREFUSED)
        proxy.black_hole()  # a server that stops answering: open connections fall silent,
                            # new ones are accepted and never answered
        proxy.restore()     # accept again, on the same port
"""

import contextlib
import selectors
import socket
import threading
import time


class TCPProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._held: list[socket.socket] = []  # accepted while silent, never answered
        self._silent = False
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.connections_made = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> "TCPProxy":
        self._listen()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self.cut()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listening socket (new connections are refused) and every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        # Drop them before the flag clears, for the same reason as in restore(): a silent pump
        # woken first would forward what it held back (a timed-out INSERT) and store it late.
        self._drop_connections()
        with self._lock:
            self._silent = False

    def black_hole(self) -> None:
        """The server stops answering without closing anything, as a hung host or a dropped
        route does: bytes on open connections are no longer forwarded either way, and new
        connections are accepted (the handshake completes) but never answered."""
        with self._lock:
            self._silent = True
        if not self.is_up:
            self._listen()

    def restore(self) -> None:
        """Forward again. Connections that fell silent are closed first, as a restarted server's
        are: what they held back is never delivered late."""
        # Drop them while still silent: a pump woken by the flag first would forward the bytes
        # the silent connection held (a timed-out INSERT) to the server late, and store them.
        with self._lock:
            silent = self._silent
        if silent:
            self._drop_connections()
        with self._lock:
            self._silent = False
        if not self.is_up:
            self._listen()

    def _drop_connections(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
            held, self._held = self._held, []
        for client, upstream in pairs:
            _close(client)
            _close(upstream)
        for client in held:
            _close(client)

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    # --- forwarding --------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            with self._lock:
                if self._silent:
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _close(client)
                    _close(upstream)
                    return
                self._pairs.append((client, upstream))
                self.connections_made += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(client, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, client)
            while True:
                if self._silent:  # read nothing: the sender's bytes wait, unanswered
                    if (client, upstream) not in self._pairs:
                        return
                    time.sleep(0.05)
                    continue
                for key, _ in selector.select(timeout=0.2):
                    if self._silent:
                        break
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            _close(client)
            _close(upstream)
            with self._lock:
                if (client, upstream) in self._pairs:
                    self._pairs.remove((client, upstream))


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
