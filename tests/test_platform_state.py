"""What the adapters keep in SQL and serve over HTTP: handled events (a platform's retry is
never answered twice), group chats bound to a node, and the shared HTTP server."""

from __future__ import annotations

import asyncio
import datetime as dt

import aiohttp
import pytest
from aiohttp import web

from bot.http import HttpRoutes, HttpServer
from knowledge.group_bindings import GroupBindings
from knowledge.handled_events import HandledEvents
from knowledge.identities import NodeNames
from tests.clock import Clock


def test_a_retried_event_is_claimed_once(engine) -> None:
    clock = Clock(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    events = HandledEvents(engine, clock=clock)
    assert events.claim("slack", "Ev123") is True
    assert events.claim("slack", "Ev123") is False  # X-Slack-Retry-Num: 1, same event_id
    assert events.claim("telegram", "Ev123") is True  # another platform's id space
    clock.now += dt.timedelta(hours=2)
    assert events.forget_before(clock.now - dt.timedelta(hours=1)) == 2
    assert events.claim("slack", "Ev123") is True


def test_a_second_worker_on_the_same_database_sees_the_claim(engine) -> None:
    assert HandledEvents(engine).claim("slack", "Ev9") is True
    assert HandledEvents(engine).claim("slack", "Ev9") is False


def test_groups_bind_to_a_known_node_only(engine) -> None:
    groups = GroupBindings(engine, nodes=NodeNames(("munich", "boston")))
    assert groups.get("telegram", "-100123") is None
    binding = groups.bind("telegram", "-100123", "munich", by="cli:alice")
    assert binding.node == "munich"
    groups.bind("telegram", "-100123", "boston", by="cli:alice")  # re-bound, not duplicated
    assert [b.node for b in groups.list("telegram")] == ["boston"]
    with pytest.raises(ValueError, match="paris"):
        groups.bind("telegram", "-100999", "paris")
    assert groups.unbind("telegram", "-100123") is True
    assert groups.get("telegram", "-100123") is None


def test_the_http_server_serves_every_adapters_routes_on_one_port() -> None:
    routes = HttpRoutes()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi " + (await request.text()))

    routes.add("POST", "/slack/events", hello)
    with pytest.raises(ValueError, match="/slack/events"):
        routes.add("post", "/slack/events", hello)

    async def run() -> tuple[str, int]:
        server = HttpServer(routes, "127.0.0.1", 0)
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{server.url}/slack/events", data="there") as r:
                    text = await r.text()
                async with session.get(f"{server.url}/healthz") as r:
                    health = r.status
        finally:
            await server.stop()
        return text, health

    assert asyncio.run(run()) == ("hi there", 200)
