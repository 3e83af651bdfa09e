"""A fake Telegram Bot API server for tests, driven by the real python-telegram-bot client.

It listens on a free loopback port (`TELEGRAM_API_URL=http://127.0.0.1:PORT/bot`), records
every call (method and parameters, in order), serves `getUpdates` from updates the test pushes
(fixtures shaped like Telegram's documented Update objects, tests/payloads/telegram/), serves
file downloads, and can be told to fail: a `RetryAfter` (429), or HTML it "cannot parse".

    async with TelegramHarness(runtime) as tg:
        await tg.send(tg.message("private_text", text="Hallo"))
        assert tg.fake.texts(tg.chat_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.telegram.application import TelegramService
from adapters.telegram.poster import PREFIX
from adapters.telegram.settings import load_telegram_settings
from bot.runtime import Runtime

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
# Parameters PTB sends as bare strings; everything else arrives JSON-encoded.
_STRINGS = frozenset(
    {"text", "caption", "parse_mode", "url", "secret_token", "language_code", "file_id"}
)
_HTML_REFUSAL = 'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 0'


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotAPI:
    def __init__(self, username: str = "zbrain_test_bot") -> None:
        # Random ids: the handled-events table and the identities are shared by the session.
        self.bot_id = random.randrange(10**9, 2 * 10**9)
        self.token = f"{self.bot_id}:TEST-{random.randrange(10**6)}"
        self.username = username
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.reject_html = False
        self._failures: dict[str, list[dict[str, Any]]] = {}
        self._message_ids = itertools.count(5000)
        self._update_ids = itertools.count(random.randrange(10**8, 9 * 10**8))
        self._arrived: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ what tests do
    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its (fresh, unique) update_id."""
        update = copy.deepcopy(update)
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        if self._arrived is not None:
            self._arrived.set()
        return update["update_id"]

    def fail(
        self,
        method: str,
        *,
        code: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        error: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            error["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method, []).extend([error] * times)

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def messages(self, chat_id: int) -> list[Call]:
        """sendMessage calls that Telegram accepted, to this chat."""
        return [c for c in self.calls_to("sendMessage", chat_id) if c.params.get("_ok")]

    def texts(self, chat_id: int) -> list[str]:
        """What the chat shows now: each accepted message's text, as last edited."""
        shown: dict[int, str] = {}
        for call in self.calls:
            if not call.params.get("_ok") or call.params.get("chat_id") != chat_id:
                continue
            if call.method == "sendMessage":
                shown[call.params["_message_id"]] = call.params["text"]
            elif call.method == "editMessageText":
                shown[call.params["message_id"]] = call.params["text"]
        return list(shown.values())

    # ------------------------------------------------------------------ the API
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
            return params
        form = await request.post()
        for key, value in form.items():
            if hasattr(value, "file"):
                params[key] = {"filename": value.filename, "content": value.file.read()}
            elif key in _STRINGS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        call = Call(method, params)
        if method != "getUpdates":
            self.calls.append(call)
        failures = self._failures.get(method)
        if failures:
            error = failures.pop(0)
            return web.json_response(error, status=error["error_code"])
        html = params.get("parse_mode") == "HTML"
        if self.reject_html and html and method in ("sendMessage", "editMessageText"):
            return web.json_response(
                {"ok": False, "error_code": 400, "description": _HTML_REFUSAL}, status=400
            )
        result = await self._result(method, params)
        params["_ok"] = True
        if isinstance(result, dict) and "message_id" in result:
            params["_message_id"] = result["message_id"]
        return web.json_response({"ok": True, "result": result})

    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Zhaoshang Brain",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params["chat_id"]
        chat_type = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
        return {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": chat_type},
            "from": self._me(),
            **content,
        }

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self._me()
        if method == "getUpdates":
            return await self._updates(params)
        if method in ("sendMessage", "editMessageText"):
            return self._message(params, text=params.get("text", ""))
        if method == "sendDocument":
            return self._message(params, document={"file_id": "sent", "file_unique_id": "s"})
        if method == "sendPhoto":
            photo = {"file_id": "sent", "file_unique_id": "s", "width": 1, "height": 1}
            return self._message(params, photo=[photo])
        if method == "getFile":
            file_id = params["file_id"]
            content = self.files.get(file_id, b"")
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(content),
                "file_path": f"documents/{file_id}",
            }
        return True  # setMyCommands, deleteWebhook, setWebhook, sendMessageDraft, answer…

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        # Long polling, but never long enough to slow a test down.
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.3)
        assert self._arrived is not None
        while True:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if pending or time.monotonic() >= deadline:
                return pending
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())

    async def _file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        self.calls.append(Call("download", {"file_id": file_id}))
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])


# ---------------------------------------------------------------------- payloads
def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def entities_of(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's servers add to a text: a leading /command and @mentions."""
    found = []
    words = text.split(" ")
    position = 0
    for index, word in enumerate(words):
        if index == 0 and word.startswith("/"):
            found.append({"type": "bot_command", "offset": 0, "length": _utf16(word)})
        elif word.startswith("@") and len(word) > 1:
            found.append(
                {"type": "mention", "offset": _utf16(text[:position]), "length": _utf16(word)}
            )
        position += len(word) + 1
    return found


class TelegramHarness:
    """The adapter's real service (PTB, long polling) against a fake Bot API, on the test's
    event loop. One private chat (the user's id) and one group belong to each harness."""

    def __init__(self, runtime: Runtime, **settings: Any) -> None:
        self.runtime = runtime
        self.fake = FakeBotAPI()
        self.settings = {"draft_interval": 0.05, "edit_interval": 0.05, **settings}
        self.user_id = random.randrange(10**8, 10**9)
        self.group_id = -(10**12 + random.randrange(10**9))
        self.service: TelegramService | None = None

    @property
    def chat_id(self) -> int:
        return self.user_id

    async def __aenter__(self) -> TelegramHarness:
        await self.fake.start()
        settings = load_telegram_settings(
            bot_token=self.fake.token, api_url=self.fake.api_url, **self.settings
        )
        self.service = TelegramService(self.runtime, settings)
        self.runtime.posters.register(PREFIX, self.service.poster)
        await self.service.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.service is not None:
            await self.service.stop()
        await self.fake.stop()

    # ------------------------------------------------------------------ updates
    def message(
        self,
        name: str = "private_text",
        *,
        text: str | None = None,
        caption: str | None = None,
        user_id: int | None = None,
        language: str | None = None,
        reply_to_bot: bool = False,
    ) -> dict[str, Any]:
        """A fixture update, addressed to this harness's chats and bot."""
        update = payload(name)
        message = update["message"]
        user = message["from"]
        user["id"] = user_id or self.user_id
        if language is not None:
            user["language_code"] = language
        if message["chat"]["type"] == "private":
            message["chat"]["id"] = user["id"]
        else:
            message["chat"]["id"] = self.group_id
        if text is not None:
            message["text"] = text.replace("@bot", f"@{self.fake.username}")
            message["entities"] = entities_of(message["text"])
        if caption is not None:
            message["caption"] = caption.replace("@bot", f"@{self.fake.username}")
            message["caption_entities"] = entities_of(message["caption"])
        original = message.get("reply_to_message")
        if original is not None:
            original["chat"] = message["chat"]
            if reply_to_bot or original["from"].get("is_bot"):
                original["from"] = self.fake._me()
        return update

    def press(self, data: str, *, user_id: int | None = None, group: bool = False) -> dict:
        update = payload("callback_query")
        query = update["callback_query"]
        query["from"]["id"] = user_id or self.user_id
        query["data"] = data
        chat_id = self.group_id if group else query["from"]["id"]
        query["message"]["chat"] = {
            "id": chat_id,
            "type": "supergroup" if group else "private",
            **({"title": "Munich partners"} if group else {"first_name": "Anna"}),
        }
        query["message"]["from"] = self.fake._me()
        return update

    async def send(self, update: dict[str, Any], timeout: float = 60) -> int:
        """Push the update and wait until the adapter finished with it."""
        update_id = self.fake.push(update)
        assert self.service is not None
        deadline = time.monotonic() + timeout
        while update_id not in self.service.handlers.handled:
            assert time.monotonic() < deadline, f"update {update_id} was not handled in time"
            await asyncio.sleep(0.01)
        return update_id

    def buttons(self, call: Call) -> Iterator[dict[str, Any]]:
        markup = call.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            yield from row

    def last_message(self, chat_id: int | None = None) -> Call:
        sent = self.fake.messages(chat_id or self.chat_id)
        assert sent, "nothing was sent to the chat"
        return sent[-1]
