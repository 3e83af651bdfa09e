"""Event-loop stalls under load: 20 questions asked at once through the chat handler while a
lead is saved through the intake (target: no stall over 100 ms).

Run from the repository root: python -m tests.benchmarks.bench_concurrency [DATA_DIR]
A heartbeat task sleeps 5 ms at a time and records how late it wakes up: the longest lateness
is the longest time the loop could not serve anyone else. Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bot.messages import IncomingMessage, Reply
from bot.runtime import build_runtime
from bot.services import Services
from bot.settings import load_settings

QUESTIONS = [
    "顶尖人才安家补贴多少钱？",
    "How much is the home-settlement subsidy for top talent?",
    "Förderung für Wasserstofftankstellen?",
    "研发用房租金怎么减免？",
    "Quelles aides pour les incubateurs ?",
    "AI 컴퓨팅 바우처는 얼마입니까?",
    "מה גובה מענק הדיור לכישרונות?",
    "What does the overseas fast lane offer?",
    "集成电路企业流片补贴标准是什么？",
    "Wie hoch ist der Zuschuss für Laborgeräte?",
] * 2
INTAKE = [
    "new lead: Zugspitze Electrolysis GmbH from the Munich node, hydrogen electrolysers",
    "Zugspitze Electrolysis GmbH",
    "EUR 15 million",
    "60",
    "land, funding",
    "skip",
    "yes",
    "new",
]


async def heartbeat(stop: asyncio.Event, lateness: list[float], tick: float = 0.005) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(tick)
        lateness.append(time.perf_counter() - before - tick)


async def drive(handler, message: IncomingMessage) -> tuple[Reply, float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    final = None
    async for update in handler(message):
        if isinstance(update, Reply):
            final = update
    assert final is not None
    return final, time.perf_counter() - started


async def scenario(services: Services) -> dict[str, float]:
    runtime = build_runtime(services=services, hint_roles={"bench": "staff"})
    assistant = runtime.assistant
    # What `zbrain serve` does before it takes messages (model, indexes, detector, jieba).
    await asyncio.to_thread(runtime.warm_up)
    await drive(
        assistant,
        IncomingMessage("研发用房租金怎么减免？", "bench", "warm", "w", hints=frozenset({"bench"})),
    )
    stop, lateness = asyncio.Event(), []
    beat = asyncio.create_task(heartbeat(stop, lateness))

    async def intake() -> float:
        conversation = f"intake-{uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        for text in INTAKE:
            reply, _ = await drive(
                assistant,
                IncomingMessage(text, "bench", "saver", conversation, hints=frozenset({"bench"})),
            )
        print("intake ended with:", reply.text.splitlines()[0][:100])
        return time.perf_counter() - started

    asks = [
        drive(
            assistant, IncomingMessage(q, "bench", f"user{i}", f"c{i}", hints=frozenset({"bench"}))
        )
        for i, q in enumerate(QUESTIONS)
    ]
    started = time.perf_counter()
    results = await asyncio.gather(intake(), *asks)
    wall = time.perf_counter() - started
    stop.set()
    await beat
    flushed = await asyncio.to_thread(services.flush_indexing, 300)
    await runtime.aclose()
    latencies = sorted(latency for _, latency in results[1:])
    return {
        "questions": len(latencies),
        "wall_s": wall,
        "p50_s": statistics.median(latencies),
        "p95_s": latencies[int(0.95 * (len(latencies) - 1))],
        "intake_s": results[0],
        "max_stall_ms": max(lateness) * 1000,
        "p99_stall_ms": sorted(lateness)[int(0.99 * (len(lateness) - 1))] * 1000,
        "indexing_flushed": float(flushed),
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = Path(args[0]) if args else Path(tempfile.mkdtemp()) / "data"
    services = Services(load_settings(ZBRAIN_DATA_DIR=str(folder)))
    # As `zbrain serve` runs: index writes in a child process (bot/index_worker.py);
    # `--in-process` measures the threads-only variant.
    services.index_in_child = "--in-process" not in sys.argv
    services.ensure_samples()
    figures = asyncio.run(scenario(services))
    for name, value in figures.items():
        print(f"{name:>18}: {value:.3f}")


if __name__ == "__main__":
    main()
