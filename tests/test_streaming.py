"""The adapters' streaming helper and the handler's error boundary: partial text coalesced to
the platform's rate, and always a final reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.boundary import guarded
from bot.messages import IncomingMessage, PartialText, Reply, ReplyUpdate
from bot.streaming import DeliveryStats, deliver


class Sink:
    def __init__(self, fail_shows: bool = False) -> None:
        self.shown: list[str] = []
        self.finished: list[Reply] = []
        self.fail_shows = fail_shows

    async def show(self, text: str) -> None:
        if self.fail_shows:
            raise RuntimeError("message_not_in_streaming_state")
        self.shown.append(text)

    async def finish(self, reply: Reply) -> None:
        self.finished.append(reply)


async def model(words: int, pause: float, fail_at: int | None = None) -> AsyncIterator[ReplyUpdate]:
    text = ""
    for i in range(words):
        if i == fail_at:
            raise ConnectionError("model went away")
        text += f"w{i} "
        yield PartialText(text)
        await asyncio.sleep(pause)
    yield Reply(text.strip())


def test_partial_text_is_coalesced_to_the_interval_and_the_final_reply_is_delivered() -> None:
    sink, stats = Sink(), DeliveryStats()
    # 40 tokens over ~0.4 s, shown at most every 0.1 s.
    reply = asyncio.run(deliver(model(40, 0.01), sink, interval=0.1, stats=stats))
    assert stats.partials == 40
    assert 2 <= len(sink.shown) <= 7, sink.shown
    # Only the newest text is ever shown, in order, never a stale one behind it.
    assert all(b.startswith(a) for a, b in zip(sink.shown, sink.shown[1:], strict=False))
    assert sink.finished == [reply] and reply.text.endswith("w39")


def test_refused_edits_do_not_lose_the_answer() -> None:
    sink, stats = Sink(fail_shows=True), DeliveryStats()
    reply = asyncio.run(deliver(model(5, 0.01), sink, interval=0.0, stats=stats))
    assert stats.failed_shows >= 1 and sink.finished == [reply]
    assert reply.text == "w0 w1 w2 w3 w4"


def test_a_failing_stream_still_ends_with_a_localized_error_reply(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink()
    with caplog.at_level(logging.ERROR):
        reply = asyncio.run(deliver(model(5, 0.0, fail_at=3), sink, interval=0.0, language="de"))
    assert reply.error and sink.finished == [reply]
    assert "Referenz" in reply.text and reply.id in reply.text
    assert reply.id in caplog.text and "model went away" in caplog.text


def _message() -> IncomingMessage:
    return IncomingMessage("hi", "test", "u1", "c1")


async def _collect(updates: AsyncIterator[ReplyUpdate]) -> list[ReplyUpdate]:
    return [u async for u in updates]


def test_the_boundary_turns_an_exception_into_a_reply_with_a_logged_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> AsyncIterator[ReplyUpdate]:
        yield PartialText("Die Förder")
        raise KeyError("bug")

    with caplog.at_level(logging.ERROR):
        updates = asyncio.run(_collect(guarded(broken(), _message(), lambda: "zh")))
    assert isinstance(updates[0], PartialText)
    final = updates[-1]
    assert isinstance(final, Reply) and final.error
    assert "参考编号" in final.text and final.id in caplog.text and "KeyError" in caplog.text


def test_the_boundary_answers_a_handler_that_ended_without_a_reply() -> None:
    async def silent() -> AsyncIterator[ReplyUpdate]:
        yield PartialText("…")

    updates = asyncio.run(_collect(guarded(silent(), _message(), lambda: "en")))
    assert isinstance(updates[-1], Reply) and "reference" in updates[-1].text
