"""`zbrain serve`: the long-running process. It starts a list of services together (now the
scheduled digest; the Slack and Telegram adapters join the same list) and stops them cleanly on
Ctrl-C or SIGTERM.

A service is anything with a `name` and async `start()` / `stop()`: `start` returns once the
service is running in the background on the event loop, `stop` waits for work in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Protocol, TextIO
from zoneinfo import ZoneInfo

from bot.channels import PosterRegistry, UnknownChannelError
from bot.leads.digest import Build, DigestRunner, DigestSchedule, summary_digest
from bot.llm import LLMClient, make_llm
from bot.services import Services
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def configure_logging(stream: TextIO) -> None:
    """Our own lines at INFO (what was scheduled, posted, retried); other libraries' only from
    WARNING, since Alembic, APScheduler and bm25s would repeat or drown them."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for ours in ("bot", "adapters"):
        logging.getLogger(ours).setLevel(logging.INFO)


def check_digest_channel(settings: Settings, posters: PosterRegistry) -> str | None:
    """The digest's channel, None when the digest is off; ConfigError for a channel that no
    poster of this process serves (found at start, not at 08:00 on Monday)."""
    channel = settings.digest_channel
    if channel is None:
        log.info("digest disabled: ZBRAIN_DIGEST_CHANNEL is not set")
        return None
    try:
        posters.resolve(channel)
    except UnknownChannelError as exc:
        raise ConfigError(f"ZBRAIN_DIGEST_CHANNEL: {exc}") from None
    return channel


def digest_schedule(
    settings: Settings,
    services: Services,
    posters: PosterRegistry,
    channel: str,
    build: Build | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    llm: LLMClient | None = None,
) -> DigestSchedule:
    from apscheduler.triggers.cron import CronTrigger

    runner = DigestRunner(
        services.engine,
        posters,
        channel,
        build
        or summary_digest(services.engine, settings.digest_language, llm=llm or make_llm(settings)),
        retries=settings.digest_retries,
        clock=clock,
        secrets=settings.secret_values(),
    )
    trigger = CronTrigger.from_crontab(
        settings.digest_cron, timezone=ZoneInfo(settings.digest_timezone)
    )
    return DigestSchedule(
        runner,
        trigger,
        retry_seconds=settings.digest_retry_seconds,
        clock=clock,
    )


async def run_services(services: Sequence[Service], stop: asyncio.Event | None = None) -> None:
    """Start every service, run until `stop` is set (Ctrl-C and SIGTERM set it), then stop them
    in reverse order."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
        except (NotImplementedError, RuntimeError):
            pass  # not the main thread, or a platform without them: Ctrl-C still interrupts
    started: list[Service] = []
    try:
        for service in services:
            await service.start()
            started.append(service)
        log.info("serving: %s; Ctrl-C or SIGTERM stops", ", ".join(s.name for s in started))
        await stop.wait()
        log.info("stopping")
    finally:
        for service in reversed(started):
            try:
                await service.stop()
            except Exception as exc:
                # No traceback: its frames could show a token to the log.
                log.error("%s did not stop cleanly: %s: %s", service.name, type(exc).__name__, exc)
        for signum in handled:
            loop.remove_signal_handler(signum)
    log.info("stopped")
