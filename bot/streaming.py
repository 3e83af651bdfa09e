"""Streaming a reply to a platform at the rate the platform allows.

The handler yields `PartialText` as fast as the model writes; Slack takes about one message
edit a second, Telegram drafts a few a second and group edits about one. `deliver` shows the
newest text at most once per `interval`, never queues stale text behind a slow edit, and always
ends with `finish(final Reply)` — also when the handler failed or stopped without a Reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from bot import i18n
from bot.messages import PartialText, Reply, ReplyUpdate, new_reply_id

log = logging.getLogger(__name__)


class StreamSink(Protocol):
    """One message being shown on a platform."""

    async def show(self, text: str) -> None:
        """Replace the partial text shown (a draft, an edit, an appended stream)."""
        ...

    async def finish(self, reply: Reply) -> None:
        """Show the final reply (citations, buttons, files)."""
        ...


@dataclass
class DeliveryStats:
    partials: int = 0  # PartialText updates the handler yielded
    shown: int = 0  # of those, how many reached the platform
    failed_shows: int = 0  # edits the platform refused (logged; the final reply still goes)


def failure_reply(language: str) -> Reply:
    reference = new_reply_id()
    return Reply(
        i18n.text("core.error", language, reference=reference),
        language=language,
        id=reference,
        error=True,
    )


async def deliver(
    updates: AsyncIterator[ReplyUpdate],
    sink: StreamSink,
    *,
    interval: float,
    language: str = "en",
    clock: Callable[[], float] = time.monotonic,
    stats: DeliveryStats | None = None,
) -> Reply:
    """Drive `updates` into `sink`, coalescing partial text to one show per `interval`
    seconds; returns the final Reply after `sink.finish` took it."""
    stats = stats if stats is not None else DeliveryStats()
    latest: list[str] = []
    changed = asyncio.Event()
    final: list[Reply] = []

    async def read() -> None:
        async for update in updates:
            if isinstance(update, Reply):
                final.append(update)
            elif isinstance(update, PartialText) and not final:
                stats.partials += 1
                latest[:] = [update.text]
                changed.set()

    reader = asyncio.create_task(read())
    shown = ""
    last_show = float("-inf")
    failed: Reply | None = None
    try:
        while not reader.done():
            waiter = asyncio.create_task(changed.wait())
            await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if reader.done():
                break
            # Wait out the interval, but stop waiting the moment the final reply arrives.
            delay = last_show + interval - clock()
            if delay > 0:
                await asyncio.wait({reader}, timeout=delay)
                if reader.done():
                    break
            changed.clear()
            text = latest[0]
            if text == shown:
                continue
            last_show = clock()
            try:
                await sink.show(text)
                stats.shown += 1
                shown = text
            except Exception:  # noqa: BLE001 - a refused edit must not lose the answer
                stats.failed_shows += 1
                log.warning("a partial update was not shown", exc_info=True)
        await reader
    except Exception:
        failed = failure_reply(language)
        log.exception("the reply stream failed (reference %s)", failed.id)
    finally:
        if not reader.done():
            reader.cancel()
    if not final and failed is None:
        failed = failure_reply(language)
        log.error("the handler ended without a reply (reference %s)", failed.id)
    reply = final[0] if final else failed
    assert reply is not None
    await sink.finish(reply)
    return reply
