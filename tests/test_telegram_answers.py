"""Answers from the sample knowledge base through Telegram: streamed by drafts in a private chat
and by edits in a group, in the asker's language with linked sources and buttons, and nothing
internal for a partner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot import i18n
from bot.llm import LLMClient
from bot.messages import IncomingMessage, Reply, ReplyUpdate
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from tests.fake_openai import FakeOpenAI, serve_fake_openai
from tests.telegram_fake import TelegramHarness
from tests.transcript import CapturingPoster

QUESTION = "Welche Förderung gibt es für Wasserstofftankstellen?"
ANSWER = (
    "Für den Bau von Wasserstofftankstellen gibt es einen Investitionszuschuss [1]. "
    "Gefördert werden auch der Betrieb in den ersten Jahren und die Anbindung an "
    "bestehende Logistikflächen im Gebiet [1]. Anträge stellen Sie beim Verwaltungskomitee."
)
NEGOTIATION = "招商引资项目谈判授权与让利标准（内部）"


def _responder(body: dict[str, Any]) -> str:
    prompt = body["messages"][-1]["content"]
    if prompt.startswith("Translate this search query"):
        return "zh: 加氢站 补贴\nen: hydrogen refuelling station subsidy"
    if prompt.startswith("Rewrite the follow-up question"):
        return QUESTION
    return ANSWER


class Replies:
    """The core's final replies, kept for the test."""

    def __init__(self, runtime: Runtime) -> None:
        self.real = runtime.assistant
        self.final: list[Reply] = []
        runtime._assistant = self  # type: ignore[assignment]

    async def __call__(self, message: IncomingMessage) -> AsyncIterator[ReplyUpdate]:
        async for update in self.real(message):
            if isinstance(update, Reply):
                self.final.append(update)
            yield update


def with_llm(sample_services, scenario: Callable[[TelegramHarness, Runtime], Awaitable[None]]):  # type: ignore[no-untyped-def]
    with serve_fake_openai(FakeOpenAI(responder=_responder)) as fake:
        runtime = build_runtime(services=sample_services)
        runtime.llm = LLMClient(
            load_settings(
                ZBRAIN_LLM_MODEL="fake-chat", OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="sk-t"
            )
        )

        async def main() -> None:
            try:
                async with TelegramHarness(runtime, draft_interval=0.0, edit_interval=0.0) as tg:
                    await scenario(tg, runtime)
            finally:
                await runtime.llm.aclose()  # type: ignore[union-attr]

        asyncio.run(main())


def _sources_rendered(reply: Reply, markup: str) -> None:
    assert reply.citations, "the answer cites the samples"
    assert "<b>Quellen</b>" in markup
    for citation in reply.citations:
        if citation.url:
            assert f'<a href="{citation.url}">' in markup
        assert citation.title in markup


def test_a_german_question_is_streamed_by_drafts_and_answered_in_german_with_sources(
    sample_services,  # type: ignore[no-untyped-def]
) -> None:
    async def scenario(tg: TelegramHarness, runtime: Runtime) -> None:
        division_channel = CapturingPoster()
        runtime.posters.register("#", division_channel)
        replies = Replies(runtime)
        runtime.services.identities.grant(
            "telegram", str(tg.user_id), "partner", node="munich", by="test"
        )
        await tg.send(tg.message(text=QUESTION, language="en"))
        [reply] = replies.final
        assert reply.language == "de" and reply.mode == "llm"
        drafts = tg.fake.calls_to("sendMessageDraft", tg.chat_id)
        assert drafts, "the answer streams as a draft"
        assert len({d.params["draft_id"] for d in drafts}) == 1 and drafts[0].params["draft_id"]
        for draft in drafts:
            assert reply.text.startswith(draft.params["text"].rstrip()[:-1])
            assert "parse_mode" not in draft.params
        [final] = tg.fake.messages(tg.chat_id)
        assert final.at > drafts[-1].at and final.params["parse_mode"] == "HTML"
        assert final.params["text"].startswith("Für den Bau von Wasserstofftankstellen")
        _sources_rendered(reply, final.params["text"])
        buttons = {b["text"]: b["callback_data"] for b in tg.buttons(final)}
        assert set(buttons) == {"👍", "👎", i18n.text("button.route", "de")}

        await tg.send(tg.press(buttons["👍"]))
        assert tg.last_message().params["text"] == i18n.text("core.feedback_thanks", "de")
        await tg.send(tg.press(buttons[i18n.text("button.route", "de")]))
        told = tg.last_message().params["text"]
        assert "follow" in told or "melden" in told or "Kolleg" in told
        [(channel, post)] = division_channel.posts
        assert channel.startswith("#") and "Wasserstofftankstellen" in post.text

    with_llm(sample_services, scenario)


def test_in_a_group_one_message_is_edited_as_the_answer_grows(sample_services) -> None:  # type: ignore[no-untyped-def]
    async def scenario(tg: TelegramHarness, runtime: Runtime) -> None:
        replies = Replies(runtime)
        await tg.send(tg.message("group_text", text=f"@bot {QUESTION}", language="de"))
        [reply] = replies.final
        assert not tg.fake.calls_to("sendMessageDraft")
        [shown] = tg.fake.messages(tg.group_id)
        assert "parse_mode" not in shown.params, "the partial is plain text"
        edits = tg.fake.calls_to("editMessageText", tg.group_id)
        assert edits and all(e.params["message_id"] == shown.params["_message_id"] for e in edits)
        final = edits[-1]
        assert final.params["parse_mode"] == "HTML" and final.params.get("reply_markup")
        _sources_rendered(reply, final.params["text"])
        assert {c.visibility for c in reply.citations} <= {"public"}, "a group is a guest"

    with_llm(sample_services, scenario)


@pytest.fixture
def extractive(sample_services) -> Runtime:  # type: ignore[no-untyped-def]
    return build_runtime(services=sample_services)


def test_a_partner_asking_for_internal_lead_data_gets_nothing_internal(
    extractive: Runtime,
) -> None:
    services = extractive.services
    internal = next(lead for lead in services.leads.list() if lead.visibility == "internal")
    replies = Replies(extractive)

    async def main() -> None:
        async with TelegramHarness(extractive) as tg:
            services.identities.grant("telegram", str(tg.user_id), "partner", node="munich", by="t")

            async def ask(text: str) -> str:
                await tg.send(tg.message(text=text, language="en"))
                return tg.last_message().params["text"]

            card = await ask(f"/lead {internal.id}")
            assert internal.company not in card and "only the leads they submitted" in card
            summary = await ask("summarise this month's Munich leads")
            assert replies.final[-1].abstained and not replies.final[-1].files
            assert internal.company not in summary
            await ask("招商项目谈判的让利标准和授权权限是什么？")
            assert NEGOTIATION not in {c.title for c in replies.final[-1].citations}
            assert {c.visibility for c in replies.final[-1].citations} <= {"public", "partner"}
            assert not tg.fake.calls_to("sendPhoto") and not tg.fake.calls_to("sendDocument")

    asyncio.run(main())
