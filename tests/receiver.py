"""A real HTTP receiver on loopback that plays an authority's endpoint for outbox tests.

Scriptable per test: ``receiver.stop()`` closes the port (down), ``receiver.start()``
opens it again on the same port; ``receiver.mode`` (or a queue of modes in
``receiver.script``) makes it answer ``healthy``, ``slow`` (after ``delay`` seconds —
longer than the client's timeout), ``error`` (500), ``garbage`` (200 with HTML),
``no_receipt`` (200 JSON without receipt), ``reject`` (422 with a message) or
``received`` (accepted for review). Like a real idempotent API it processes each
Idempotency-Key once and answers a repeat with the first receipt; it counts every
hit per key (``hits``) and every first processing (``processed``).
"""

from __future__ import annotations

import collections
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, token: str = "", delay: float = 0.5):
        self.token = token
        self.delay = delay
        self.mode = "healthy"
        self.script: collections.deque[str] = collections.deque()
        self.hits: collections.Counter[str] = collections.Counter()
        self.processed: collections.Counter[str] = collections.Counter()
        self.receipts: dict[str, str] = {}
        self.bodies: dict[str, dict] = {}
        self.headers: list[dict] = []
        self.reject_message = "备案表缺少法定代表人签字"
        self._lock = threading.Lock()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/deliveries"

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                status, content_type, body, delay = receiver._answer(dict(self.headers), raw)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout): nothing to answer
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    # ------------------------------------------------------------ behaviour

    def _process(self, key: str, body: dict) -> str:
        if key not in self.receipts:
            self.receipts[key] = f"R-{len(self.receipts) + 1:05d}"
            self.bodies[key] = body
            self.processed[key] += 1
        return self.receipts[key]

    def _answer(self, headers: dict, raw: bytes) -> tuple[int, str, bytes, float]:
        key = headers.get("Idempotency-Key", "")
        with self._lock:
            self.hits[key] += 1
            self.headers.append(headers)
            mode = self.script.popleft() if self.script else self.mode
            if self.token and headers.get("Authorization") != f"Bearer {self.token}":
                return 401, "application/json", b'{"message": "unauthorized"}', 0
            if mode == "error":
                return 500, "text/plain", b"Internal Server Error", 0
            if mode == "garbage":
                return 200, "text/html; charset=utf-8", "<html><body>维护中</body></html>".encode(), 0
            if mode == "no_receipt":
                return 200, "application/json", b'{"ok": true}', 0
            if mode == "reject":
                body = json.dumps({"message": self.reject_message}, ensure_ascii=False).encode()
                return 422, "application/json; charset=utf-8", body, 0
            receipt = self._process(key, json.loads(raw))
            status = "received" if mode == "received" else "accepted"
            answer = json.dumps({"receipt_id": receipt, "status": status}).encode()
            return 200, "application/json", answer, self.delay if mode == "slow" else 0
