"""A webhook receiver on loopback for tests: refuses the first tries of each webhook-id, keeps the rest."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str
    refuse_first: int
    tries: Counter[str] = field(default_factory=Counter)
    accepted: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_webhook_id(self) -> dict[str, Received]:
        """What a receiver keeps after deduplicating by webhook-id."""
        with self.lock:
            return {r.headers["webhook-id"]: r for r in self.accepted}


@contextmanager
def running_receiver(refuse_first: int = 0) -> Iterator[Receiver]:
    """``refuse_first`` tries of every webhook-id get 503 (a receiver that is down), later ones 204."""
    receiver = Receiver(url="", refuse_first=refuse_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            webhook_id = headers.get("webhook-id", "")
            with receiver.lock:
                receiver.tries[webhook_id] += 1
                refuse = receiver.tries[webhook_id] <= receiver.refuse_first
                if not refuse:
                    receiver.accepted.append(Received(headers, body))
            self.send_response(503 if refuse else 204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
