"""How long the event loop stalls while a coroutine runs: a heartbeat task that should wake
every 10 ms notes the longest gap (a blocking call on the loop shows up as a long one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def longest_stall(work: Awaitable[T]) -> tuple[T, float]:
    """(the work's result, the longest gap in seconds between heartbeats meanwhile)."""
    longest, done = 0.0, asyncio.Event()

    async def heartbeat() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            longest, last = max(longest, now - last), now

    beating = asyncio.create_task(heartbeat())
    try:
        result = await work
    finally:
        done.set()
        await beating
    return result, longest
