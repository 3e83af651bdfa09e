"""A local fake of Slack's Web API for tests, behind the real slack_sdk client (`base_url`):
bolt-python's own tests use a mock server the same way (tests/mock_web_api_server), here on a
free loopback port. It records every call, answers like Slack's documented examples, and can
be told to fail a method with Slack's error codes.

    with serve_fake_slack() as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        ...
        [call] = slack.calls_to("chat.postMessage")
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM = "T0TEAM001"
_JSON_FIELDS = {"blocks", "chunks", "prompts", "loading_messages", "files", "attachments"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str = ""
    at: float = 0.0  # time.perf_counter() when it arrived (the benchmark's clock)
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeSlack:
    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    # method → Slack error codes to answer with, one per call, before behaving normally.
    errors: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    # conversations.members answers at most this many per page, as Slack pages at `limit`.
    page_size: int = 1000
    files: dict[str, bytes] = field(default_factory=dict)  # download path → bytes
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id → uploaded bytes
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def file_url(self, name: str) -> str:
        return f"{self.base_url}/files-pri/{name}"

    # ------------------------------------------------------------------ reading what happened
    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posted_texts(self) -> list[str]:
        """Everything people would read: posts, edits, ephemerals and stream text."""
        texts = []
        for call in self.calls:
            p = call.params
            if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
                texts.append(str(p.get("text", "")))
                texts.extend(_block_texts(p.get("blocks") or []))
            elif call.method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
                for chunk in p.get("chunks") or []:
                    texts.append(str(chunk.get("text", "")))
                texts.append(str(p.get("markdown_text", "")))
                texts.extend(_block_texts(p.get("blocks") or []))
        for response in self.responses:
            texts.append(str(response.get("text", "")))
            texts.extend(_block_texts(response.get("blocks") or []))
        return [t for t in texts if t]

    # ------------------------------------------------------------------ answering
    def next_ts(self) -> str:
        with self._lock:
            return f"1700000{next(self._ts):03d}.000100"

    def handle(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        call = Call(method, params, token, at=time.perf_counter())
        with self._lock:
            self.calls.append(call)
            queued = self.errors.get(method)
            error = queued.pop(0) if queued else None
        if error:
            call.answer = {"ok": False, "error": error}
        elif token != BOT_TOKEN:
            call.answer = {"ok": False, "error": "invalid_auth"}
        else:
            call.answer = self._answer(method, params)
        return call.answer

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return {
                **ok,
                "url": "https://zbrain-test.slack.com/",
                "team": "Zhaoshang",
                "user": "zbrain",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
            }
        if method in ("chat.postMessage", "chat.startStream"):
            ts = self.next_ts()
            return {**ok, "channel": p.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method in ("chat.update", "chat.appendStream", "chat.stopStream"):
            return {**ok, "channel": p.get("channel"), "ts": p.get("ts")}
        if method == "chat.postEphemeral":
            return {**ok, "message_ts": self.next_ts()}
        if method == "chat.getPermalink":
            channel, ts = p.get("channel"), str(p.get("message_ts", "")).replace(".", "")
            return {**ok, "permalink": f"https://zbrain-test.slack.com/archives/{channel}/p{ts}"}
        if method == "users.info":
            user = self.users.get(str(p.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {**ok, "user": user}
        if method == "users.list":
            return {**ok, "members": list(self.users.values()), "response_metadata": {}}
        if method == "conversations.info":
            channel = self.channels.get(str(p.get("channel")))
            if channel is None:
                return {"ok": False, "error": "channel_not_found"}
            return {**ok, "channel": channel}
        if method == "conversations.members":
            everyone = self.members.get(str(p.get("channel")), [])
            start = int(p.get("cursor") or 0)
            end = start + min(self.page_size, int(p.get("limit") or 100))
            more = str(end) if end < len(everyone) else ""
            return {
                **ok,
                "members": everyone[start:end],
                "response_metadata": {"next_cursor": more},
            }
        if method == "conversations.list":
            return {**ok, "channels": list(self.channels.values()), "response_metadata": {}}
        if method == "conversations.open":
            return {**ok, "channel": {"id": "D" + str(p.get("users", "X"))[1:]}}
        if method == "usergroups.users.list":
            return {**ok, "users": self.usergroups.get(str(p.get("usergroup")), [])}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.uploads) + len(self.calls):07d}"
            return {**ok, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = p.get("files") or []
            return {**ok, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        return ok  # assistant.threads.*, and anything else Slack would accept


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            found.append(str(text.get("text", "")))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                inner = element["text"]
                found.append(str(inner.get("text", "") if isinstance(inner, dict) else inner))
    return found


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(raw)
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Form-encoded calls carry blocks, chunks and file lists as JSON strings."""
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


@contextmanager
def serve_fake_slack(fake: FakeSlack | None = None) -> Iterator[FakeSlack]:
    fake = fake or FakeSlack()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes: with Nagle's algorithm every call waited
        # ~40 ms for a delayed ACK, which Slack's servers do not add.
        disable_nagle_algorithm = True

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            path = urlparse(self.path).path
            raw = self._body()
            if path.startswith("/upload/"):
                fake.uploads[path.rsplit("/", 1)[1]] = raw
                self._send(200, b"OK", "text/plain")
                return
            if path.startswith("/response/"):
                fake.responses.append(json.loads(raw or b"{}"))
                self._json({"ok": True})
                return
            method = path.removeprefix("/api/")
            params = _parse(self.headers.get("Content-Type", ""), raw)
            params.update(dict(parse_qsl(urlparse(self.path).query)))
            _decode_json_fields(params)
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            token = token or str(params.pop("token", ""))
            self._json(fake.handle(method, params, token))

        def do_GET(self) -> None:  # noqa: N802
            path = urlparse(self.path).path
            if path.startswith("/api/"):
                params: dict[str, Any] = _decode_json_fields(
                    dict(parse_qsl(urlparse(self.path).query))
                )
                token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                self._json(fake.handle(path.removeprefix("/api/"), params, token))
                return
            name = path.removeprefix("/files-pri/")
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if token != BOT_TOKEN:
                self._send(200, b"<html>Sign in to Slack</html>", "text/html")
            elif name in fake.files:
                self._send(200, fake.files[name], "application/octet-stream")
            else:
                self._send(404, b"not found", "text/plain")

        def _json(self, payload: dict[str, Any]) -> None:
            self._send(200, json.dumps(payload).encode(), "application/json; charset=utf-8")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def member(user_id: str, name: str, locale: str = "zh-CN", **extra: Any) -> dict[str, Any]:
    """A user as users.info returns one (a full member unless `extra` says otherwise)."""
    return {
        "id": user_id,
        "team_id": TEAM,
        "name": name,
        "deleted": False,
        "is_bot": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "locale": locale,
        "profile": {"display_name": name, "real_name": name.title()},
        **extra,
    }


def channel(channel_id: str, name: str, **extra: Any) -> dict[str, Any]:
    """A channel as conversations.info returns one."""
    return {
        "id": channel_id,
        "name": name,
        "is_channel": True,
        "is_private": False,
        "is_im": False,
        "is_ext_shared": False,
        "is_shared": False,
        **extra,
    }
