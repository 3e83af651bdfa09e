"""Turning the Slack adapter on: the entry point, the settings (one clear line when HTTP mode
has no signing secret), the hint roles, the manifest an admin pastes — and Socket Mode, driven
through a fake socket client by the same handlers as HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack.plugin import MANIFEST, plugin
from adapters.slack.service import SlackService
from adapters.slack.settings import load_slack_settings
from bot.runtime import build_runtime
from bot.services import Services
from bot.settings import ConfigError, load_settings
from tests.slack_fake import BOT_TOKEN, FakeSlack, serve_fake_slack
from tests.slack_harness import event, standard_directory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLACK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve_fake_slack() as slack:
        standard_directory(slack)
        yield slack


def test_the_plugin_is_an_entry_point_of_the_adapters_group() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    points = project["project"]["entry-points"]["zbrain.adapters"]
    assert points["slack"] == "adapters.slack.plugin:plugin"
    installed = {p.name: p for p in entry_points(group="zbrain.adapters")}
    if "slack" in installed:  # visible once the checkout is (re)installed
        assert installed["slack"].load() is plugin


def test_slack_is_on_when_its_bot_token_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert not plugin.configured(settings)
    assert "SLACK_BOT_TOKEN" in plugin.requirements()
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    assert plugin.configured(settings)


def test_workspace_members_are_staff_by_default_and_managers_by_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert plugin.hint_roles(load_settings()) == {
        "slack_member": "staff",
        "slack_manager": "manager",
    }
    monkeypatch.setenv("ZBRAIN_SLACK_MEMBER_ROLE", "partner")
    assert plugin.hint_roles(load_settings())["slack_member"] == "partner"
    assert load_slack_settings(managers="U1, U2 ,").manager_ids == {"U1", "U2"}


def test_http_mode_without_a_signing_secret_refuses_to_start_with_one_line(
    tmp_path: Path,
) -> None:
    runtime = build_runtime(services=Services(load_settings(ZBRAIN_DATA_DIR=str(tmp_path))))
    settings = load_slack_settings(bot_token=BOT_TOKEN, mode="http")
    with pytest.raises(ConfigError) as raised:
        SlackService(runtime, settings)
    message = str(raised.value)
    assert "SLACK_SIGNING_SECRET" in message and "\n" not in message
    assert not runtime.http, "no route was added"
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackService(runtime, load_slack_settings(bot_token=BOT_TOKEN))


def test_the_manifest_asks_for_what_the_adapter_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "assistant:write",
        "chat:write",
        "commands",
        "im:history",
    } <= scopes
    assert {"files:read", "files:write", "users:read", "usergroups:read"} <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "assistant_thread_started"} <= events
    assert manifest["features"]["slash_commands"][0]["command"] == "/zbrain"
    assert manifest["settings"]["interactivity"]["is_enabled"]
    assert "assistant_view" in manifest["features"]


class FakeSocketClient:
    """What bolt's Socket Mode handler needs of slack_sdk's client: connect, close, and
    sending the envelope's ack back."""

    def __init__(self) -> None:
        self.acks: list[SocketModeResponse] = []
        self.connected = False
        self.logger = logging.getLogger("tests.fake_socket")

    async def connect(self) -> None:
        self.connected = True

    async def close(self) -> None:
        self.connected = False

    async def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.acks.append(response)


def test_socket_mode_acks_each_envelope_and_answers_with_the_same_handlers(
    fake: FakeSlack, tmp_path: Path
) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    runtime = build_runtime(services=Services(load_settings(ZBRAIN_DATA_DIR=str(tmp_path))))
    socket = FakeSocketClient()
    handlers: list[Any] = []
    replaced: list[Any] = []

    def handler(app: Any, app_token: str, client: Any) -> Any:
        made = AsyncSocketModeHandler(app, app_token, web_client=client)
        replaced.append(made.client)  # never connected; closed at the end
        made.client = socket  # type: ignore[assignment]
        handlers.append(made)
        return made

    settings = load_slack_settings(
        bot_token=BOT_TOKEN, app_token="xapp-1-test", api_url=fake.api_url
    )
    body = event("message_im", text="help")

    async def go() -> None:
        service = SlackService(runtime, settings, socket_handler=handler)
        await service.start()
        assert socket.connected
        request = SocketModeRequest(type="events_api", envelope_id="env-1", payload=body)
        await handlers[0].handle(socket, request)
        assert [a.envelope_id for a in socket.acks] == ["env-1"], "acked before the work"
        assert await service.idle(30)
        await service.stop()
        assert not socket.connected
        for client in replaced:
            await client.close()
        await runtime.aclose()

    asyncio.run(go())
    posts = fake.calls_to("chat.postMessage")
    assert posts and posts[-1].params["channel"] == "D0STAFF01"
    assert "/zbrain" in " ".join(fake.posted_texts()) or posts[-1].params["blocks"]
