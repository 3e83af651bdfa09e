"""One answer shown in a Slack thread: native streaming, the chat.update fallback when Slack
ends or refuses a stream, and an answer that still arrives when Slack refuses an edit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.sink import Place, SlackStats, ThreadSink
from bot.messages import Action, PartialText, Reply, ReplyUpdate
from bot.streaming import deliver
from tests.slack_fake import BOT_TOKEN, FakeSlack, serve_fake_slack

PLACE = Place("C0GENERAL", "1700000000.000001", "U0STAFF01", "T0TEAM001")
FINAL = Reply(
    "Rent relief for labs [1].",
    actions=(Action("feedback", "👍", "up", "R-1"), Action("feedback", "👎", "down", "R-1")),
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve_fake_slack() as slack:
        yield slack


async def _updates(*texts: str, final: Reply = FINAL) -> AsyncIterator[ReplyUpdate]:
    for text in texts:
        yield PartialText(text)
        await asyncio.sleep(0.02)
    yield final


def _show(fake: FakeSlack, *texts: str, final: Reply = FINAL) -> SlackStats:
    stats = SlackStats()

    async def go() -> None:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        sink = ThreadSink(client, PLACE, stats, update_interval=0.0)
        await deliver(_updates(*texts, final=final), sink, interval=0.0)

    asyncio.run(go())
    return stats


def test_the_stream_carries_only_what_is_new_and_stops_with_the_buttons(fake: FakeSlack) -> None:
    stats = _show(fake, "Rent", "Rent relief", "Rent relief for labs")
    assert fake.methods()[0] == "chat.startStream"
    texts = [
        chunk["text"]
        for call in fake.calls
        if call.method in ("chat.startStream", "chat.appendStream", "chat.stopStream")
        for chunk in call.params.get("chunks") or []
    ]
    assert "".join(texts) == FINAL.text
    [stop] = fake.calls_to("chat.stopStream")
    assert [b["type"] for b in stop.params["blocks"]] == ["context_actions"]
    assert stats.streamed == 1 and not stats.fallbacks and not fake.calls_to("chat.update")


def test_a_stream_slack_ends_mid_answer_continues_as_edits_of_the_same_message(
    fake: FakeSlack,
) -> None:
    fake.errors["chat.appendStream"] = ["message_not_in_streaming_state"]
    stats = _show(fake, "Rent", "Rent relief", "Rent relief for labs")
    assert stats.fallbacks == {"message_not_in_streaming_state": 1}
    [start] = fake.calls_to("chat.startStream")
    streamed_ts = "1700000001.000100"
    assert start and not fake.calls_to("chat.postMessage"), "no second message"
    updates = fake.calls_to("chat.update")
    assert updates and {u.params["ts"] for u in updates} == {streamed_ts}
    assert updates[-1].params["blocks"][0]["text"]["text"] == FINAL.text


def test_text_that_changed_under_the_stream_is_replaced_by_the_final_blocks(
    fake: FakeSlack,
) -> None:
    final = Reply("Rent relief for labs, up to three years [1].", actions=FINAL.actions)
    _show(fake, "Rent relief for labs [1][99]", "Something else entirely", final=final)
    assert fake.calls_to("chat.stopStream")
    [update] = fake.calls_to("chat.update")
    assert update.params["blocks"][0]["text"]["text"] == final.text


def test_when_slack_refuses_every_edit_the_answer_is_still_posted(fake: FakeSlack) -> None:
    fake.errors["chat.startStream"] = ["ratelimited", "ratelimited"]
    fake.errors["chat.stopStream"] = ["ratelimited"]
    stats = _show(fake, "Rent relief")
    posts = fake.calls_to("chat.postMessage")
    assert posts and posts[-1].params["blocks"][0]["text"]["text"] == FINAL.text
    assert posts[-1].params["thread_ts"] == PLACE.thread_ts
    assert stats.answers == 1
