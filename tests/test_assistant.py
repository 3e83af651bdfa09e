from __future__ import annotations

import asyncio

from bot.assistant import build_assistant
from bot.messages import IncomingMessage, Reply
from knowledge.lead_store import LeadFilter


def ask(services, text: str, role: str, conversation: str = "c1") -> Reply:  # type: ignore[no-untyped-def]
    assistant = build_assistant(services, role_of=lambda _m: role)

    async def run() -> Reply:
        final = None
        async for update in assistant(IncomingMessage(text, "test", "u1", conversation)):
            if isinstance(update, Reply):
                final = update
        assert final is not None
        return final

    return asyncio.run(run())


def test_a_manager_asks_for_a_lead_summary_in_chat(sample_services) -> None:  # type: ignore[no-untyped-def]
    reply = ask(sample_services, "summarise this month's Tel Aviv leads", "manager")
    assert [f.mime_type for f in reply.files] == ["image/png"]
    assert reply.files[0].content.startswith(b"\x89PNG")
    tel_aviv = sample_services.leads.list(LeadFilter(node="tel-aviv"))
    assert str(len(tel_aviv)) in reply.text
    zh = ask(sample_services, "本月特拉维夫线索汇总", "manager")
    assert zh.language == "zh" and zh.files


def test_partners_get_no_lead_figures(sample_services) -> None:  # type: ignore[no-untyped-def]
    reply = ask(sample_services, "summarise this month's Tel Aviv leads", "partner")
    assert not reply.files and "only staff and managers may see" in reply.text


def test_an_offer_sheet_in_chat(sample_services) -> None:  # type: ignore[no-untyped-def]
    reply = ask(sample_services, "What can we offer L-0005?", "staff")
    assert reply.citations and reply.text.startswith("Policies for Charlesgate")
    # u1 did not submit L-0005: a partner gets sheets for their own leads only.
    partner = ask(sample_services, "What can we offer L-0005?", "partner")
    assert not partner.citations and "only the leads they submitted" in partner.text
    guest = ask(sample_services, "What can we offer L-0005?", "guest")
    assert not guest.citations and "guests may not" in guest.text


def test_look_alike_words_are_questions_not_lead_summaries(sample_services) -> None:  # type: ignore[no-untyped-def]
    for question in (
        "Give me an overview of the leading semiconductor policies",
        "高新区重点项目概况",
    ):
        reply = ask(sample_services, question, "staff")
        assert not reply.files and "only staff and managers" not in reply.text


def test_new_lead_starts_the_intake_and_questions_still_get_answers(sample_services) -> None:  # type: ignore[no-untyped-def]
    started = ask(sample_services, "new lead", "partner", conversation="intake-1")
    assert "company's name" in started.text
    assert "cancelled" in ask(sample_services, "cancel", "partner", "intake-1").text.lower()
    answer = ask(sample_services, "研发用房租金怎么减免？", "guest", conversation="q-1")
    assert answer.citations and not answer.abstained
