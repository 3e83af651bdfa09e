"""A local OpenAI-compatible HTTP server for tests, driven by the real `openai` client."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
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
    # Decides the assistant's text from the request body; the default echoes nothing useful.
    responder: Callable[[dict[str, Any]], str] = lambda body: "NO_ANSWER"
    delay: float = 0.0  # seconds to stall each chat request (a hung model)
    connections: int = 0  # TCP connections accepted: fewer than requests means keep-alive

    def chat_requests(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path.endswith("/chat/completions")]

    def prompts_containing(self, needle: str) -> list[str]:
        found = []
        for body in self.chat_requests():
            text = "\n".join(m["content"] for m in body["messages"])
            if needle in text:
                found.append(text)
        return found

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
        if path.endswith("/chat/completions"):
            if self.delay:
                time.sleep(self.delay)
            return 200, {"_chat": self.responder(body)}
        return 404, {"error": {"message": f"no route {path}"}}


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _stream_events(text: str, model: str) -> bytes:
    """Server-sent events, a few characters per chunk, as the real API streams."""
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)] or [""]
    events = []
    for piece in pieces:
        chunk = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        events.append(f"data: {json.dumps(chunk)}\n\n")
    done = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    events.append(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n")
    return "".join(events).encode()


def _chunk(data: bytes) -> bytes:
    """One piece of a chunked (HTTP/1.1) body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@contextmanager
def serve_fake_openai(fake: FakeOpenAI | None = None) -> Iterator[FakeOpenAI]:
    """Serve `fake` over HTTP/1.1 with keep-alive, as the real API does: a client's pooled
    connection outlives each request, so reusing one client across event loops fails here as
    it would in production ("Event loop is closed")."""
    fake = fake or FakeOpenAI()
    connections: set[Any] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The status line, headers and body go out as separate writes; with Nagle's algorithm
        # each answer waited ~40 ms for a delayed ACK, which no real API server adds.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with lock:
                connections.add(self.connection)
                fake.connections += 1

        def finish(self) -> None:
            with lock:
                connections.discard(self.connection)
            with suppress(OSError):  # the client went away (a timed-out request)
                super().finish()

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = fake.handle(self.path, body)
            model = str(body.get("model"))
            try:
                if "_chat" in payload and body.get("stream"):
                    self._stream(status, _stream_events(payload["_chat"], model))
                else:
                    if "_chat" in payload:
                        payload = _completion(payload["_chat"], model)
                    self._json(status, payload)
            except OSError:
                self.close_connection = True  # the client gave up waiting (a hung model)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, status: int, events: bytes) -> None:
            # Server-sent events in chunked transfer, one event per chunk, as the real API
            # streams; the connection stays open for the next request.
            self.send_response(status)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in events.split(b"\n\n"):
                if event:
                    self.wfile.write(_chunk(event + b"\n\n"))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

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
        # Idle keep-alive connections would hold their handler threads until the client
        # closes them; end them with the server.
        with lock:
            for connection in list(connections):
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
