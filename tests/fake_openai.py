"""A local OpenAI-compatible HTTP server for tests, driven by the real `openai` client."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def fake_vector(text: str, dim: int) -> list[float]:
    """Deterministic bag-of-character-trigrams vector: similar texts get similar vectors."""
    vector = np.zeros(dim, dtype=np.float64)
    padded = f"  {text.lower()}  "
    for i in range(len(padded) - 2):
        digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
        vector[int.from_bytes(digest, "little") % dim] += 1.0
    norm = np.linalg.norm(vector) or 1.0
    return (vector / norm).tolist()


@dataclass
class FakeOpenAI:
    dim: int = 64
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Status codes to answer with, one per request, before behaving normally.
    failures: list[int] = field(default_factory=list)
    base_url: str = ""

    def handle(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append((path, body))
        if self.failures:
            status = self.failures.pop(0)
            return status, {"error": {"message": f"simulated {status}", "type": "server_error"}}
        if path.endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            dim = int(body.get("dimensions") or self.dim)
            data = [
                {"object": "embedding", "index": i, "embedding": fake_vector(str(t), dim)}
                for i, t in enumerate(inputs)
            ]
            return 200, {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        return 404, {"error": {"message": f"no route {path}"}}


@contextmanager
def serve_fake_openai(fake: FakeOpenAI | None = None) -> Iterator[FakeOpenAI]:
    fake = fake or FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = fake.handle(self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
