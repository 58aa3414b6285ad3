"""HTTP serving shared by every sandbox (Bitrix24, amoCRM): a loopback server with a bounded
pool of workers, silent request logs, and request bodies read by Content-Length or chunked.

What a request means and how an answer looks is each target's own business: a handler
subclasses ``BaseHandler`` and answers with ``send``.
"""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

MAX_BODY = 16 * 1024 * 1024


class ReplyDropped(Exception):
    """The connection is to be closed without an answer (the ``drop-after`` fault)."""


class BodyError(Exception):
    """A request body that cannot be read (malformed or too large): ``status`` and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoopbackServer(HTTPServer):
    """An HTTP server with a listen backlog that holds a burst of clients and a bounded pool of
    worker threads, grown on demand (``ThreadingHTTPServer`` keeps socketserver's backlog of 5,
    so a 6th simultaneous client is reset, and starts a thread per connection without bound)."""

    allow_reuse_address = True
    #: the listen backlog: connections the kernel holds while every worker is busy
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        sandbox: Any,
        handler: type[BaseHTTPRequestHandler],
        workers: int = 32,
    ) -> None:
        self.sandbox = sandbox
        if ":" in address[0]:  # ::1
            self.address_family = socket.AF_INET6
        self._jobs: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._max_workers = workers
        self._workers: list[threading.Thread] = []
        self._idle = 0
        self._pool_lock = threading.Lock()
        #: connections being served (closed on stop, so no worker waits on an idle client)
        self._open: set[Any] = set()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._pool_lock:
            if self._idle == 0 and len(self._workers) < self._max_workers:
                worker = threading.Thread(target=self._work, name="crmkit-sandbox-worker")
                worker.daemon = True
                self._workers.append(worker)
                self._idle += 1
                worker.start()
            self._idle -= 1
        self._jobs.put((request, client_address))

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            request, client_address = job
            with self._pool_lock:
                self._open.add(request)
            try:
                self.finish_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
                with self._pool_lock:
                    self._open.discard(request)
                    self._idle += 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up early is no sandbox bug and no reason to print: only real
        # failures are kept (never printed: a traceback may quote a secret)
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        self.sandbox.internal_errors.append(traceback.format_exc())

    def server_close(self) -> None:
        super().server_close()
        with self._pool_lock:
            for request in self._open:
                with contextlib.suppress(OSError):
                    request.shutdown(socket.SHUT_RDWR)
        for _ in self._workers:
            self._jobs.put(None)
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))


class BaseHandler(BaseHTTPRequestHandler):
    server: LoopbackServer
    protocol_version = "HTTP/1.1"
    server_version = "crmkit-sandbox"
    #: an idle keep-alive connection is closed after this many seconds (it holds a worker)
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes; without NODELAY a keep-alive client waits
        # ~40 ms on each reply for the delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        # silent: request logs would show a webhook code or a token, which are secrets
        return

    def send(
        self,
        status: int,
        data: bytes,
        content_type: str | None = "application/json; charset=utf-8",
        close: bool = False,
    ) -> None:
        """One answer; ``content_type`` None with empty ``data`` sends no body (a 204)."""
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")  # also sets close_connection
        self.end_headers()
        if data:
            self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without an answer (a scheduled lost reply)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def read_body(self) -> bytes:
        """The request body, by Content-Length or chunked; a malformed or oversized one is
        refused (``BodyError``) before more of it is read (as the web server in front of a real
        portal does)."""
        coding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if coding:
            if coding != "chunked":
                raise BodyError(501, "Unsupported Transfer-Encoding")
            return self._read_chunked()
        announced = (self.headers.get("Content-Length") or "0").strip()
        if not re.fullmatch(r"[0-9]+", announced):
            raise BodyError(400, "Invalid Content-Length")
        length = int(announced)
        if length > MAX_BODY:
            raise BodyError(413, "Request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_text):
                raise BodyError(400, "Invalid chunked body")
            size = int(size_text, 16)
            if len(body) + size > MAX_BODY:
                raise BodyError(413, "Request body too large")
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) != b"\r\n":
                raise BodyError(400, "Invalid chunked body")
            body += chunk
        for _ in range(64):  # trailers, up to the empty line
            if self.rfile.readline(1024) in (b"\r\n", b"\n", b""):
                return bytes(body)
        raise BodyError(400, "Invalid chunked body")


def serve_in_thread(server: HTTPServer) -> threading.Thread:
    """Serve ``server`` from a daemon thread; a short poll interval makes shutdown() return at
    once (tests start many sandboxes)."""
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="crmkit-sandbox",
        daemon=True,
    )
    thread.start()
    return thread
