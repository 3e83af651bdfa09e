"""The Slack app in HTTP mode against the fake Web API (tests/slack_fake.py): signed events,
slash commands and button presses posted over HTTP, as Slack would post them."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from adapters.slack.plugin import plugin
from adapters.slack.service import SlackService
from adapters.slack.settings import load_slack_settings
from bot.http import HttpServer
from bot.runtime import Runtime
from tests.slack_fake import BOT_TOKEN, FakeSlack, channel, member

PAYLOADS = Path(__file__).parent / "payloads" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_SEQUENCE = itertools.count(1)


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def fresh_ts() -> str:
    """A message ts no other test used (threads are remembered in the shared SQL)."""
    return f"{int(time.time())}.{next(_SEQUENCE):03d}{uuid.uuid4().int % 1000:03d}"


def event(name: str, **fields: Any) -> dict[str, Any]:
    """A fixture's event callback with a fresh event id and ts, and `fields` set on the
    event (None removes a field)."""
    body = copy.deepcopy(payload(name))
    body["event_id"] = f"Ev{uuid.uuid4().hex[:10].upper()}"
    if "ts" in body["event"]:
        body["event"]["ts"] = fresh_ts()
    for key, value in fields.items():
        if value is None:
            body["event"].pop(key, None)
        else:
            body["event"][key] = value
    return body


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def standard_directory(fake: FakeSlack) -> None:
    """A staff member, a manager, a guest; a normal channel, a Slack Connect channel and one
    with a guest in it."""
    fake.users.update(
        {
            "U0STAFF01": member("U0STAFF01", "wang"),
            "U0MANAGER": member("U0MANAGER", "li"),
            "U0GUEST01": member("U0GUEST01", "visitor", "en-US", is_restricted=True),
        }
    )
    fake.channels.update(
        {
            "C0GENERAL": channel("C0GENERAL", "general"),
            "C0SHARED1": channel("C0SHARED1", "partners-munich", is_ext_shared=True),
            "C0GUESTS1": channel("C0GUESTS1", "visitors"),
            "C0YANGTZE": channel("C0YANGTZE", "div-yangtze"),
            "C0BOHAI01": channel("C0BOHAI01", "div-bohai"),
            "C0PEARL01": channel("C0PEARL01", "div-pearl"),
        }
    )
    fake.members.update(
        {
            "C0GENERAL": ["U0STAFF01", "U0MANAGER", "UBOT0001"],
            "C0GUESTS1": ["U0STAFF01", "U0GUEST01", "UBOT0001"],
        }
    )


class SlackApp:
    """The adapter on the runtime, its routes on a real HTTP server on a free port."""

    def __init__(self, runtime: Runtime, fake: FakeSlack, **settings: Any) -> None:
        self.runtime = runtime
        self.fake = fake
        options: dict[str, Any] = {
            "bot_token": BOT_TOKEN,
            "signing_secret": SECRET,
            "mode": "http",
            "api_url": fake.api_url,
            "stream_interval": 0.05,
            "update_interval": 0.2,
            "managers": "U0MANAGER",
        }
        options.update(settings)
        self.settings = load_slack_settings(**options)
        for hint, role in plugin.hint_roles(runtime.settings).items():
            runtime.hint_roles.setdefault(hint, role)
        self.service = SlackService(runtime, self.settings)
        self.server = HttpServer(runtime.http, "127.0.0.1", 0)
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackApp:
        await self.service.start()
        await self.server.start()
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()
        await self.service.stop()
        await self.server.stop()

    @property
    def url(self) -> str:
        return f"{self.server.url}{self.settings.events_path}"

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None, **sign_kw: Any
    ) -> tuple[int, float, str]:
        """Posts as Slack does; (status, seconds until the response, response body)."""
        assert self.session is not None
        all_headers = {"Content-Type": content_type, **sign(body, **sign_kw), **(headers or {})}
        started = time.perf_counter()
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            text = await resp.text()
            return resp.status, time.perf_counter() - started, text

    async def event(self, body: dict[str, Any], **kw: Any) -> tuple[int, float, str]:
        return await self.post(json.dumps(body), "application/json", **kw)

    async def command(self, text: str, **fields: Any) -> tuple[int, float, str]:
        form = payload("slash_command")
        form.update({"text": text, "response_url": self.fake.response_url(), **fields})
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def press(self, action: dict[str, Any], **where: Any) -> tuple[int, float, str]:
        body = payload("block_actions")
        body["actions"] = [action]
        for key, value in where.items():
            body[key] = value
        form = urlencode({"payload": json.dumps(body)})
        return await self.post(form, "application/x-www-form-urlencoded")

    async def idle(self) -> None:
        assert await self.service.idle(60), "the work after the ack did not finish"
