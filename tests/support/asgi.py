"""The real ASGI application (HTTP and websockets) served by uvicorn on 127.0.0.1, port 0, in a
thread of the test process: for browser tests of pages that open websockets."""

import logging
import socket
import threading
import time

import uvicorn


class LogLines(logging.Handler):
    """Every line the server and the application log, as the operator's log would hold it
    (the message and its arguments, after the loggers' own filters)."""

    LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error")

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r}")

    def __enter__(self) -> "LogLines":
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)


class LiveASGIServer:
    def __init__(self, app_path: str = "config.asgi:application", log_level: str = "warning"):
        self.app_path = app_path
        self.log_level = log_level
        self.url = ""

    def __enter__(self) -> "LiveASGIServer":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(self.app_path, lifespan="off", log_level=self.log_level)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
