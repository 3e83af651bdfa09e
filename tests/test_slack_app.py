"""The Slack app end to end: signed payloads posted over HTTP to the app in HTTP mode, the real
slack_sdk client talking to a fake Web API (tests/slack_fake.py), the real core answering from
the sample knowledge base."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.slack.blocks import fallback_text
from bot import i18n
from bot.llm import LLMClient
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.fake_openai import FakeOpenAI, serve_fake_openai
from tests.slack_fake import BOT_USER, TEAM, FakeSlack, serve_fake_slack
from tests.slack_harness import SlackApp, event, fresh_ts, standard_directory

QUESTION = "研发用房租金怎么减免？"
ANSWER = "符合条件的研发用房可享受租金减免，最长三年 [1]。"


@pytest.fixture(autouse=True)
def no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SLACK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve_fake_slack() as slack:
        standard_directory(slack)
        yield slack


@pytest.fixture
def loop() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


def _respond(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("Translate this search query"):
        return "zh: 研发用房租金减免\nen: lab rent relief"
    if prompt.startswith("Rewrite the follow-up question"):
        return "研发用房租金减免需要哪些申请材料？"
    return ANSWER


@pytest.fixture
def llm_fake() -> Iterator[FakeOpenAI]:
    with serve_fake_openai(FakeOpenAI(responder=_respond)) as server:
        yield server


def _runtime(sample_services: Any, llm_url: str | None = None) -> Runtime:
    runtime = build_runtime(services=sample_services)
    if llm_url is not None:
        runtime.llm = LLMClient(
            load_settings(
                ZBRAIN_LLM_MODEL="fake-chat", OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="sk-test"
            )
        )
    return runtime


def _run(loop: asyncio.Runner, runtime: Runtime, fake: FakeSlack, scenario: Any, **kw: Any) -> Any:
    async def go() -> Any:
        try:
            async with SlackApp(runtime, fake, **kw) as app:
                return await scenario(app)
        finally:
            if runtime.llm is not None:
                await runtime.llm.aclose()

    return loop.run(go())


def _final_blocks(fake: FakeSlack) -> list[dict[str, Any]]:
    """The blocks of the answer as it stands: the last stop, update or post with blocks."""
    for call in reversed(fake.calls):
        if call.method in (
            "chat.stopStream",
            "chat.update",
            "chat.postMessage",
        ) and call.params.get("blocks"):
            return call.params["blocks"]
    raise AssertionError(f"no message with blocks among {fake.methods()}")


def _types(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["type"] for b in blocks]


# ---------------------------------------------------------------------- answers in threads
def test_a_mention_is_answered_in_its_thread_streamed_with_sources_and_buttons(
    sample_services: Any, fake: FakeSlack, llm_fake: FakeOpenAI, loop: asyncio.Runner
) -> None:
    body = event("app_mention")
    ts = body["event"]["ts"]

    async def scenario(app: SlackApp) -> None:
        status, seconds, _ = await app.event(body)
        assert status == 200 and seconds < 3
        await app.idle()

    _run(loop, _runtime(sample_services, llm_fake.base_url), fake, scenario)
    [status] = fake.calls_to("assistant.threads.setStatus")
    assert status.params["thread_ts"] == ts and status.params["status"] == "正在思考…"
    [start] = fake.calls_to("chat.startStream")
    assert start.params["channel"] == "C0GENERAL" and start.params["thread_ts"] == ts
    assert start.params["recipient_user_id"] == "U0STAFF01"
    assert start.params["recipient_team_id"] == TEAM
    streamed = "".join(
        chunk["text"]
        for call in fake.calls
        if call.method in ("chat.startStream", "chat.appendStream", "chat.stopStream")
        for chunk in call.params.get("chunks") or []
    )
    assert streamed.startswith("符合条件的研发用房"), streamed
    assert fake.calls_to("chat.stopStream")
    blocks = _final_blocks(fake)
    assert {"context", "context_actions", "actions"} <= set(_types(blocks))
    sources = next(b for b in blocks if b["type"] == "context")["elements"][0]["text"]
    assert "[1]" in sources
    feedback = next(b for b in blocks if b["type"] == "context_actions")["elements"][0]
    assert feedback["type"] == "feedback_buttons"
    assert json.loads(feedback["positive_button"]["value"])["v"] == "up"
    # Nothing was posted outside the thread.
    for call in fake.calls_to("chat.postMessage"):
        assert call.params.get("thread_ts") == ts


def test_where_slack_refuses_to_stream_one_message_is_edited_instead(
    sample_services: Any, fake: FakeSlack, llm_fake: FakeOpenAI, loop: asyncio.Runner
) -> None:
    fake.errors["chat.startStream"] = ["channel_type_not_supported"]
    body = event("app_mention")

    async def scenario(app: SlackApp) -> Any:
        await app.event(body)
        await app.idle()
        return app.service.stats

    stats = _run(loop, _runtime(sample_services, llm_fake.base_url), fake, scenario)
    assert stats.fallbacks == {"channel_type_not_supported": 1}
    [placeholder] = fake.calls_to("chat.postMessage")
    assert placeholder.params["thread_ts"] == body["event"]["ts"]
    updates = fake.calls_to("chat.update")
    assert updates and {u.params["ts"] for u in updates} == {placeholder.answer["ts"]}
    final = updates[-1].params
    assert "研发用房" in final["text"] and "context_actions" in _types(final["blocks"])


def test_a_direct_message_is_answered_in_a_thread_without_a_mention(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    body = event("message_im")

    async def scenario(app: SlackApp) -> None:
        await app.event(body)
        await app.idle()

    _run(loop, _runtime(sample_services), fake, scenario)
    posts = fake.calls_to("chat.postMessage")
    assert posts and posts[-1].params["channel"] == "D0STAFF01"
    assert posts[-1].params["thread_ts"] == body["event"]["ts"]
    assert "研发用房" in " ".join(fake.posted_texts())


def test_a_follow_up_in_the_bots_thread_needs_no_mention_and_other_threads_are_left_alone(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    mention = event("app_mention")
    thread = mention["event"]["ts"]
    follow_up = event("message_thread_reply", thread_ts=thread)
    elsewhere = event("message_thread_reply", thread_ts=fresh_ts())

    async def scenario(app: SlackApp) -> tuple[int, int]:
        await app.event(mention)
        await app.idle()
        answered = len(fake.calls_to("chat.postMessage"))
        await app.event(elsewhere)
        await app.idle()
        assert len(fake.calls_to("chat.postMessage")) == answered, "a stranger's thread"
        await app.event(follow_up)
        await app.idle()
        return answered, len(fake.calls_to("chat.postMessage"))

    before, after = _run(loop, _runtime(sample_services), fake, scenario)
    assert after > before
    assert fake.calls_to("chat.postMessage")[-1].params["thread_ts"] == thread


def test_messages_from_bots_are_ignored(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    other_bot = event("message_bot")
    ourselves = event("message_im", bot_id="BBOT0001", user=BOT_USER)

    async def scenario(app: SlackApp) -> None:
        for body in (other_bot, ourselves):
            status, _, _ = await app.event(body)
            assert status == 200
        await app.idle()

    _run(loop, _runtime(sample_services), fake, scenario)
    assert not fake.calls_to("chat.postMessage") and not fake.calls_to("chat.startStream")


# ---------------------------------------------------------------------- acks, retries, signatures
def test_a_retried_event_is_answered_once(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    body = event("message_im")

    async def scenario(app: SlackApp) -> Any:
        await app.event(body)
        await app.event(
            body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )
        await app.idle()
        return app.service.stats

    stats = _run(loop, _runtime(sample_services), fake, scenario)
    assert stats.dropped_retries == 1
    assert len(fake.calls_to("assistant.threads.setStatus")) == 1


@pytest.mark.parametrize("forgery", ["wrong secret", "stale timestamp"])
def test_a_request_slack_did_not_sign_is_refused_and_nothing_is_done(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner, forgery: str
) -> None:
    body = event("message_im")
    kw: dict[str, Any] = (
        {"secret": "not-the-secret"}
        if forgery == "wrong secret"
        else {"timestamp": int(time.time()) - 6 * 60}
    )

    async def scenario(app: SlackApp) -> int:
        status, _, _ = await app.event(body, **kw)
        await app.idle()
        return status

    assert _run(loop, _runtime(sample_services), fake, scenario) == 401
    assert [m for m in fake.methods() if m != "auth.test"] == []


def test_a_slow_model_is_still_acknowledged_within_three_seconds(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    with serve_fake_openai(FakeOpenAI(responder=_respond, delay=3.5)) as slow:
        body = event("app_mention")

        async def scenario(app: SlackApp) -> float:
            status, seconds, _ = await app.event(body)
            assert status == 200
            await app.idle()
            return seconds

        seconds = _run(loop, _runtime(sample_services, slow.base_url), fake, scenario)
    assert seconds < 3
    assert "研发用房" in " ".join(fake.posted_texts())


# ---------------------------------------------------------------------- who sees what
RESTRICTED_QUESTION = "Isar Hydrogen Systems PEM electrolyser valuation NDA"


def test_a_manager_a_staff_member_and_a_shared_channel_see_what_they_may(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    asks = {
        "manager in a DM": event(
            "message_im", user="U0MANAGER", channel="D0MANAGER", text=RESTRICTED_QUESTION
        ),
        "staff in a DM": event("message_im", text=RESTRICTED_QUESTION),
        "manager in a Slack Connect channel": event(
            "app_mention",
            user="U0MANAGER",
            channel="C0SHARED1",
            text=f"<@{BOT_USER}> {RESTRICTED_QUESTION}",
        ),
        "manager in a channel with a guest": event(
            "app_mention",
            user="U0MANAGER",
            channel="C0GUESTS1",
            text=f"<@{BOT_USER}> {RESTRICTED_QUESTION}",
        ),
    }

    async def scenario(app: SlackApp) -> dict[str, tuple[str, ...]]:
        seen = {}
        for who, body in asks.items():
            await app.event(body)
            await app.idle()
            [row] = sample_services.audit.query(user=f"slack:{body['event']['user']}", limit=1)
            seen[who] = (row.role, *row.visibilities)
        return seen

    seen = _run(loop, _runtime(sample_services), fake, scenario)
    assert seen["manager in a DM"][0] == "manager"
    assert "restricted" in seen["manager in a DM"][1:]
    assert seen["staff in a DM"][0] == "staff"
    assert "restricted" not in seen["staff in a DM"][1:]
    assert seen["manager in a Slack Connect channel"][0] == "partner"
    assert set(seen["manager in a Slack Connect channel"][1:]) <= {"public", "partner"}
    assert seen["manager in a channel with a guest"][0] == "guest"
    assert set(seen["manager in a channel with a guest"][1:]) <= {"public"}


# ---------------------------------------------------------------------- /zbrain
def test_each_slash_subcommand_answers_the_caller_and_a_summary_posts_its_chart(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    lines = [
        "help",
        f"ask {QUESTION}",
        "lead L-0001",
        "match L-0001",
        "offer L-0001",
        "invite munich",
        "myleads",
        "privacy",
        "ingest",
    ]

    async def scenario(app: SlackApp) -> dict[str, list[dict[str, Any]]]:
        answers: dict[str, list[dict[str, Any]]] = {}
        for line in lines:
            before = len(fake.responses)
            status, seconds, _ = await app.command(line, user_id="U0MANAGER")
            assert status == 200 and seconds < 3
            await app.idle()
            answers[line] = fake.responses[before:]
        await app.command("summary 本月", user_id="U0MANAGER")
        await app.idle()
        await app.command("newlead", user_id="U0STAFF01")
        await app.idle()
        return answers

    answers = _run(loop, _runtime(sample_services), fake, scenario)
    for line, responses in answers.items():
        assert responses, f"/zbrain {line} was not answered"
        assert all(r["response_type"] == "ephemeral" for r in responses), line
        assert "reference" not in responses[0]["text"].lower(), (line, responses[0]["text"])
    assert answers["help"][0]["text"] == fallback_text(i18n.text("core.help", "zh"))
    assert any(b["type"] == "context" for b in answers[f"ask {QUESTION}"][0]["blocks"])
    assert "L-0001" in answers["lead L-0001"][0]["text"]
    invites = [i for i in sample_services.invites.list() if i.created_by == "slack:U0MANAGER"]
    assert invites and invites[-1].node == "munich"
    assert "私信" in answers["ingest"][0]["text"]
    # The summary is posted in the channel, its chart uploaded into the thread under it.
    summary = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] == "C0GENERAL"]
    assert summary and "thread_ts" not in summary[0].params
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0GENERAL"
    assert complete.params["thread_ts"] == "1700000001.000100" or complete.params["thread_ts"]
    assert any(data.startswith(b"\x89PNG") for data in fake.uploads.values())
    # A new lead is taken in a DM with the caller.
    [opened] = fake.calls_to("conversations.open")
    assert opened.params["users"] == "U0STAFF01"
    assert any(c.params["channel"] == "D0STAFF01" for c in fake.calls_to("chat.postMessage"))
    assert "私信" in fake.responses[-1]["text"]


# ---------------------------------------------------------------------- buttons
def _buttons(fake: FakeSlack) -> dict[str, dict[str, Any]]:
    blocks = _final_blocks(fake)
    found = {}
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "feedback_buttons":
                found["up"] = {
                    "action_id": element["action_id"],
                    "type": "feedback_buttons",
                    "value": element["positive_button"]["value"],
                }
                found["down"] = {**found["up"], "value": element["negative_button"]["value"]}
            elif element.get("type") == "button":
                found[json.loads(element["value"])["id"]] = {
                    "action_id": element["action_id"],
                    "type": "button",
                    "value": element["value"],
                }
    return found


def test_feedback_is_recorded_on_the_reply_and_route_hands_the_thread_to_a_division(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    body = event(
        "app_mention", text=f"<@{BOT_USER}> How much is the home-settlement subsidy for top talent?"
    )
    ts = body["event"]["ts"]
    where = {
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": "C0GENERAL",
            "thread_ts": ts,
        },
        "message": {
            "type": "message",
            "ts": "1700000009.000100",
            "thread_ts": ts,
            "user": BOT_USER,
        },
    }

    async def scenario(app: SlackApp) -> str:
        await app.event(body)
        await app.idle()
        buttons = _buttons(fake)
        status, seconds, _ = await app.press(buttons["down"], **where)
        assert status == 200 and seconds < 3
        await app.idle()
        await app.press(buttons["route"], **where)
        await app.idle()
        return json.loads(buttons["route"]["value"])["r"]

    reply_id = _run(loop, _runtime(sample_services), fake, scenario)
    exchange = sample_services.audit.query(user="slack:U0STAFF01", limit=5)
    voted = [e for e in exchange if e.reply_id == reply_id]
    assert voted and voted[0].down == 1
    ephemerals = fake.calls_to("chat.postEphemeral")
    assert len(ephemerals) == 2 and all(e.params["user"] == "U0STAFF01" for e in ephemerals)
    division_posts = [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.params["channel"] in ("C0YANGTZE", "C0BOHAI01", "C0PEARL01")
    ]
    [post] = division_posts
    assert "home-settlement subsidy" in post.params["text"]
    assert f"archives/C0GENERAL/p{ts.replace('.', '')}" in post.params["text"]


# ---------------------------------------------------------------------- assistant threads
def test_a_new_assistant_thread_gets_prompts_and_a_title_in_the_users_language(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    fake.users["U0STAFF01"]["locale"] = "de-DE"

    async def scenario(app: SlackApp) -> None:
        await app.event(event("assistant_thread_started"))
        await app.idle()

    _run(loop, _runtime(sample_services), fake, scenario)
    [prompts] = fake.calls_to("assistant.threads.setSuggestedPrompts")
    assert prompts.params["thread_ts"] == "1729999327.187299"
    assert len(prompts.params["prompts"]) == 4
    assert prompts.params["title"] == "Fragen Sie zum Beispiel:"
    [title] = fake.calls_to("assistant.threads.setTitle")
    assert title.params["title"] == "Neue Unterhaltung"


def test_opening_the_messages_tab_offers_prompts_once_a_day_in_the_users_language(
    sample_services: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    fake.users["U0STAFF01"]["locale"] = "fr-FR"

    async def scenario(app: SlackApp) -> None:
        await app.event(event("app_home_opened"))
        await app.event(event("app_home_opened"))  # opened again the same day: no second post
        await app.event(event("app_home_opened", tab="home"))  # the Home tab: nothing
        await app.idle()

    _run(loop, _runtime(sample_services), fake, scenario)
    [welcome] = fake.calls_to("chat.postMessage")
    assert welcome.params["channel"] == "D0STAFF01"
    assert "Bonjour" in welcome.params["text"]
    buttons = [
        element
        for block in welcome.params["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]
    assert len(buttons) == 4


# ---------------------------------------------------------------------- knowledge from Slack
NOTES = b"""# Hydrogen notes, November 2026

Zugspitze Electrolysis plans a 20 MW electrolyser test line in the zone.
"""


def test_a_file_sent_in_a_dm_is_downloaded_with_the_bot_token_and_filed_from_buttons(
    services_factory: Any, fake: FakeSlack, loop: asyncio.Runner
) -> None:
    path = "T0TEAM001-F0NOTES001/download/hydrogen-notes.md"
    fake.files[path] = NOTES
    body = event("message_file_share")
    body["event"]["files"][0]["url_private_download"] = fake.file_url(path)
    body["event"]["files"][0]["size"] = len(NOTES)
    ts = body["event"]["ts"]
    fake.users["U0STAFF01"]["locale"] = "en-US"
    runtime = build_runtime(services=services_factory())
    runtime.services.identities.grant("slack", "U0STAFF01", "staff", by="test")
    where = {
        "channel": {"id": "D0STAFF01", "name": "directmessage"},
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": "D0STAFF01",
            "thread_ts": ts,
        },
        "message": {
            "type": "message",
            "ts": "1700000009.000100",
            "thread_ts": ts,
            "user": BOT_USER,
        },
    }

    async def scenario(app: SlackApp) -> str:
        await app.event(body)
        await app.idle()
        kind = next(b for b in _buttons_of_last_post(fake) if "kind=policy" in b["value"])
        await app.press(kind, **where)
        await app.idle()
        buttons = _buttons_of_last_post(fake)
        internal = next(b for b in buttons if "visibility=internal" in b["value"])
        await app.press(internal, **where)
        await app.idle()
        return fake.calls_to("chat.postMessage")[-1].params["text"]

    added = _run(loop, runtime, fake, scenario)
    assert "hydrogen-notes.md" in added and "internal" in added
    assert all(c.params["thread_ts"] == ts for c in fake.calls_to("chat.postMessage"))


def _buttons_of_last_post(fake: FakeSlack) -> list[dict[str, Any]]:
    blocks = fake.calls_to("chat.postMessage")[-1].params.get("blocks") or []
    return [
        {"action_id": e["action_id"], "type": "button", "value": e["value"]}
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
