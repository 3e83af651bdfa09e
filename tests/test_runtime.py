"""The composition root: adapters found by entry point, `zbrain serve` starting what is
configured and refusing to start with nothing to serve."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from bot import runtime as runtime_module
from bot.messages import Reply
from bot.runtime import build_runtime, configured_services, discover_adapters
from bot.serve import run_services
from bot.settings import load_settings
from tests.conftest import run_cli


@dataclass
class EchoService:
    name: str = "echo"
    events: list[str] = field(default_factory=list)

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


class EchoPoster:
    def __init__(self) -> None:
        self.posts: list[str] = []

    async def post(self, channel: str, reply: Reply) -> str:
        self.posts.append(f"{channel}: {reply.text}")
        return "1"


class EchoPlugin:
    """A third platform, as an adapter package would ship it."""

    name = "echo"

    def __init__(self) -> None:
        self.service = EchoService()
        self.poster = EchoPoster()

    def configured(self, settings) -> bool:  # type: ignore[no-untyped-def]
        return True

    def requirements(self) -> str:
        return "ECHO_TOKEN"

    def build(self, runtime):  # type: ignore[no-untyped-def]
        runtime.posters.register("echo:", self.poster)
        return self.service


class FakeEntryPoint:
    name = "echo"

    def __init__(self, plugin: object) -> None:
        self.plugin = plugin

    def load(self) -> object:
        return self.plugin


class BrokenEntryPoint:
    name = "broken"

    def load(self) -> object:
        raise ImportError("no module named broken_adapter")


def test_an_adapter_plugs_in_by_entry_point_without_touching_the_core(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    plugin = EchoPlugin()
    monkeypatch.setattr(
        runtime_module,
        "entry_points",
        lambda group: (
            [BrokenEntryPoint(), FakeEntryPoint(plugin)] if group == "zbrain.adapters" else []
        ),
    )
    plugins = discover_adapters()
    assert plugins == [plugin], "a broken adapter is logged and skipped"
    runtime = build_runtime(load_settings(ZBRAIN_DATA_DIR=str(tmp_path / "data")))
    services = configured_services(runtime, plugins)
    assert services == [plugin.service]
    asyncio.run(runtime.posters.post("echo:room", Reply("hello")))
    assert plugin.poster.posts == ["echo:room: hello"]

    async def serve_briefly() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_services(services, stop))
        await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(serve_briefly())
    assert plugin.service.events == ["start", "stop"]


def test_serve_with_nothing_configured_says_what_to_configure(cli_env: dict[str, str]) -> None:
    result = run_cli("serve", env=cli_env, timeout=120)
    assert result.returncode != 0
    assert "nothing to serve" in result.stderr and "ZBRAIN_DIGEST_CHANNEL" in result.stderr
    assert "Traceback" not in result.stderr
