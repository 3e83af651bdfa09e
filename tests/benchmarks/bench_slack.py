"""50 concurrent @mentions over HTTP, the fake model answering in 1 s: every event acked within
3 s, every answer delivered, time to the first streamed text, and the bot's own overhead
(everything but the model; target p95 under 150 ms).

Run from the repository root: python -m tests.benchmarks.bench_slack [DATA_DIR]
The Slack app runs in HTTP mode on a free port against the fake Web API (tests/slack_fake.py),
signed events are posted as Slack posts them, and the fake OpenAI server (tests/fake_openai.py)
holds each answer for 1 s before streaming it (the query translation is answered at once, so
the model's share of each answer is that second). Results go to BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.llm import LLMClient
from bot.runtime import build_runtime
from bot.services import Services
from bot.settings import load_settings
from tests.fake_openai import FakeOpenAI, serve_fake_openai
from tests.slack_fake import BOT_USER, FakeSlack, member, serve_fake_slack
from tests.slack_harness import SlackApp, event, standard_directory

MENTIONS = 50
MODEL_SECONDS = 1.0
QUESTION = "研发用房租金怎么减免？"
ANSWER = "符合条件的研发用房可享受租金减免，最长三年，按年度申请并提交租赁合同 [1]。"


def respond(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("Translate this search query"):
        return "zh: 研发用房租金减免\nen: lab rent relief"
    time.sleep(MODEL_SECONDS)  # the fake's server thread: the answer takes one second
    return ANSWER


class TimedAssistant:
    """The core's handler, timed per conversation: what the core took (retrieval, the model,
    SQL) versus what the Slack side added around it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.core: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def __call__(self, message: Any) -> Any:
        started = time.perf_counter()
        async for update in self.inner(message):
            yield update
        self.core[message.conversation_id.rsplit(":", 1)[-1]] = time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))]


async def scenario(services: Services, fake: FakeSlack, llm_url: str) -> dict[str, float]:
    runtime = build_runtime(services=services)
    runtime.llm = LLMClient(
        load_settings(ZBRAIN_LLM_MODEL="fake-chat", OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="k")
    )
    # What `zbrain serve` does before it takes messages.
    await asyncio.to_thread(runtime.warm_up)
    timed = TimedAssistant(runtime.assistant)
    runtime._assistant = timed  # type: ignore[assignment]
    bodies = [
        event("app_mention", user=f"U0BENCH{i:03d}", text=f"<@{BOT_USER}> {QUESTION}")
        for i in range(MENTIONS)
    ]
    async with SlackApp(runtime, fake, stream_interval=0.5, update_interval=1.0) as app:
        # The first answer of a process loads the tokenizers and fills caches; it is not
        # what a mention costs, so one goes first unmeasured and a second one is timed alone.
        await app.event(event("app_mention", user="U0BENCHWRM", text=f"<@{BOT_USER}> {QUESTION}"))
        await app.idle()
        single = event("app_mention", user="U0BENCHONE", text=f"<@{BOT_USER}> {QUESTION}")
        sent_single = time.perf_counter()
        await app.event(single)
        await app.idle()
        alone = time.perf_counter() - sent_single
        alone_core = timed.core[single["event"]["ts"]]
        fake.calls.clear()
        sent: dict[str, float] = {}

        async def post(body: dict[str, Any]) -> tuple[int, float]:
            sent[body["event"]["ts"]] = time.perf_counter()
            status, seconds, _ = await app.event(body)
            return status, seconds

        started = time.perf_counter()
        acks = await asyncio.gather(*(post(b) for b in bodies))
        await app.idle()
        wall = time.perf_counter() - started
        stats = app.service.stats
    await runtime.llm.aclose()

    stream_thread: dict[str, str] = {}
    first_text: dict[str, float] = {}
    done: dict[str, float] = {}
    for call in fake.calls:
        p = call.params
        if call.method == "chat.startStream":
            stream_thread[str(call.answer.get("ts"))] = str(p["thread_ts"])
            first_text.setdefault(str(p["thread_ts"]), call.at)
        elif call.method == "chat.postMessage" and p.get("thread_ts") in sent:
            first_text.setdefault(str(p["thread_ts"]), call.at)
            if p.get("blocks"):
                done[str(p["thread_ts"])] = call.at
        elif call.method in ("chat.stopStream", "chat.update"):
            thread = stream_thread.get(str(p.get("ts")))
            if thread is not None and (call.method == "chat.stopStream" or p.get("blocks")):
                done[thread] = max(done.get(thread, 0.0), call.at)
    ttft = [first_text[ts] - sent[ts] for ts in sent if ts in first_text]
    total = [done[ts] - sent[ts] for ts in sent if ts in done]
    overhead = [t - MODEL_SECONDS for t in total]
    # The Slack side alone: the whole answer minus the core's handler (users.info, the
    # channel's audience, the status, the stream calls, the final blocks).
    slack_side = [done[ts] - sent[ts] - timed.core[ts] for ts in sent if ts in done]
    return {
        "mentions": MENTIONS,
        "acked_200": sum(1 for status, _ in acks if status == 200),
        "ack_max_s": max(seconds for _, seconds in acks),
        "ack_p95_s": percentile([s for _, s in acks], 0.95),
        "answers_delivered": len(done),
        "streamed_natively": stats.streamed,
        "fallbacks": sum(stats.fallbacks.values()),
        "first_text_p50_s": statistics.median(ttft),
        "first_text_p95_s": percentile(ttft, 0.95),
        "answer_p50_s": statistics.median(total),
        "answer_p95_s": percentile(total, 0.95),
        "overhead_p50_ms": statistics.median(overhead) * 1000,
        "overhead_p95_ms": percentile(overhead, 0.95) * 1000,
        "slack_side_p50_ms": statistics.median(slack_side) * 1000,
        "slack_side_p95_ms": percentile(slack_side, 0.95) * 1000,
        "one_mention_alone_s": alone,
        "one_mention_overhead_ms": (alone - MODEL_SECONDS) * 1000,
        "one_mention_slack_side_ms": (alone - alone_core) * 1000,
        "wall_s": wall,
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = Path(args[0]) if args else Path(tempfile.mkdtemp()) / "data"
    services = Services(load_settings(ZBRAIN_DATA_DIR=str(folder)))
    services.ensure_samples()
    with (
        serve_fake_slack() as fake,
        serve_fake_openai(FakeOpenAI(responder=respond)) as llm,
    ):
        standard_directory(fake)
        for i in [*range(MENTIONS), "WRM", "ONE"]:
            user = f"U0BENCH{i:03d}" if isinstance(i, int) else f"U0BENCH{i}"
            fake.users[user] = member(user, f"bench{i}")
        figures = asyncio.run(scenario(services, fake, llm.base_url))
    for name, value in figures.items():
        print(f"{name:>20}: {value:.3f}" if isinstance(value, float) else f"{name:>20}: {value}")


if __name__ == "__main__":
    main()
