"""The Telegram adapter as `zbrain serve` runs it: found by entry point, configured from the
environment, the webhook on the shared HTTP server (its secret checked), and the group
binding commands."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path

import aiohttp
import pytest
import typer
from typer.testing import CliRunner

from adapters.telegram.application import TelegramService
from adapters.telegram.plugin import plugin
from adapters.telegram.settings import load_telegram_settings
from adapters.telegram.webhook import SECRET_HEADER
from bot.http import HttpServer
from bot.runtime import build_runtime
from bot.settings import ConfigError, load_settings
from knowledge.group_bindings import GroupBindings
from knowledge.sql import make_engine
from tests.telegram_fake import FakeBotAPI, payload

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_telegram_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "TELEGRAM_FILE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_plugin_is_an_entry_point_turned_on_by_the_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    points = project["project"]["entry-points"]["zbrain.adapters"]
    assert points["telegram"] == "adapters.telegram.plugin:plugin"
    settings = load_settings(ZBRAIN_DATA_DIR=str(tmp_path / "data"))
    assert not plugin.configured(settings)
    assert "TELEGRAM_BOT_TOKEN" in plugin.requirements()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    assert plugin.configured(settings)
    assert plugin.hint_roles(settings) == {"telegram_bound_group": "partner"}
    runtime = build_runtime(settings)
    service = plugin.build(runtime)
    assert service.name == "telegram"
    assert runtime.posters.resolve("telegram:-100123") is service.poster
    assert not runtime.http, "polling needs no HTTP route"
    app = typer.Typer()
    plugin.register_cli(app)
    assert [group.name for group in app.registered_groups] == ["telegram"]


def test_webhook_mode_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    runtime = build_runtime(load_settings(ZBRAIN_DATA_DIR=str(tmp_path / "data")))
    settings = load_telegram_settings(bot_token="123:abc", mode="webhook")
    with pytest.raises(ConfigError) as caught:
        TelegramService(runtime, settings)
    message = str(caught.value)
    assert "ZBRAIN_TELEGRAM_WEBHOOK_SECRET" in message and "\n" not in message
    with pytest.raises(ConfigError) as bad:
        load_telegram_settings(bot_token="123:abc", webhook_secret="not allowed!")
    refused = str(bad.value)
    assert "ZBRAIN_TELEGRAM_WEBHOOK_SECRET" in refused and "not allowed" not in refused


def test_the_webhook_takes_updates_only_with_the_secret(services_factory) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(services=services_factory())
    fake = FakeBotAPI()

    async def scenario() -> None:
        await fake.start()
        settings = load_telegram_settings(
            bot_token=fake.token,
            api_url=fake.api_url,
            mode="webhook",
            webhook_secret="s3cret-Token_1",
            webhook_url="https://bot.example.org/telegram/webhook",
        )
        service = TelegramService(runtime, settings)
        server = HttpServer(runtime.http, "127.0.0.1", 0)
        await service.start()
        await server.start()
        [registered] = fake.calls_to("setWebhook")
        assert registered.params["url"] == "https://bot.example.org/telegram/webhook"
        assert registered.params["secret_token"] == "s3cret-Token_1"
        update = payload("private_text")
        update["message"]["text"] = "/help"
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
        chat_id = update["message"]["chat"]["id"]
        url = f"{server.url}/telegram/webhook"
        try:
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {SECRET_HEADER: "wrong"}):
                    async with http.post(url, data=json.dumps(update), headers=headers) as r:
                        assert r.status == 403
                await asyncio.sleep(0.2)
                assert not service.handlers.handled and not fake.messages(chat_id)
                headers = {SECRET_HEADER: "s3cret-Token_1", "Content-Type": "application/json"}
                async with http.post(url, data=json.dumps(update), headers=headers) as r:
                    assert r.status == 200
            for _ in range(1000):
                if update["update_id"] in service.handlers.handled:
                    break
                await asyncio.sleep(0.02)
            [answer] = fake.messages(chat_id)
            assert answer.params["text"].startswith("Ich bin")
            assert not fake.calls_to("getUpdates"), "no polling in webhook mode"
        finally:
            await server.stop()
            await service.stop()
            await fake.stop()

    asyncio.run(scenario())


def test_staff_bind_a_group_to_a_node_list_and_unbind_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZBRAIN_DATA_DIR", str(tmp_path / "data"))
    zbrain = typer.Typer()
    plugin.register_cli(zbrain)  # as bot/cli.py does for every adapter

    class Cli:
        def invoke(self, _app: object, args: list[str]):  # type: ignore[no-untyped-def]
            return CliRunner().invoke(zbrain, ["telegram", *args])

    cli = Cli()
    bound = cli.invoke(None, ["group", "-1001234567890", "--node", "München"])
    assert bound.exit_code == 0, bound.output
    assert "partner group of node munich" in bound.output
    listed = cli.invoke(None, ["group", "list"])
    assert "-1001234567890" in listed.output and "munich" in listed.output
    engine = make_engine(load_settings().resolved_database_url)
    binding = GroupBindings(engine).get("telegram", "-1001234567890")
    assert binding is not None and binding.node == "munich" and binding.bound_by.startswith("cli")
    unknown = cli.invoke(None, ["group", "-100555", "--node", "atlantis"])
    assert unknown.exit_code == 2 and "atlantis" in unknown.output
    both = cli.invoke(None, ["group", "-100555"])
    assert both.exit_code == 2 and "--unbind" in both.output
    unbound = cli.invoke(None, ["group", "-1001234567890", "--unbind"])
    assert unbound.exit_code == 0 and "guest level" in unbound.output
    assert GroupBindings(engine).get("telegram", "-1001234567890") is None
    assert "No Telegram group" in cli.invoke(None, ["group", "list"]).output
