"""Lead requests in chat, as transcripts: summaries for staff and managers, offer sheets
within the one lead-access rule, intake beside questions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.runtime import build_runtime
from knowledge.lead_store import LeadFilter
from tests.transcript import Transcript


@pytest.fixture
def chat(sample_services) -> Iterator[Transcript]:  # type: ignore[no-untyped-def]
    transcript = Transcript(build_runtime(services=sample_services))
    yield transcript
    transcript.close()


def test_a_manager_asks_for_a_lead_summary_in_chat(chat: Transcript, sample_services) -> None:  # type: ignore[no-untyped-def]
    reply = chat.ask("summarise this month's Tel Aviv leads", as_="manager")
    assert [f.mime_type for f in reply.files] == ["image/png"]
    assert reply.files[0].content.startswith(b"\x89PNG")
    tel_aviv = sample_services.leads.list(LeadFilter(node="tel-aviv"))
    assert str(len(tel_aviv)) in reply.text
    zh = chat.ask("本月特拉维夫线索汇总", as_="manager")
    assert zh.language == "zh" and zh.files


def test_partners_get_no_lead_figures(chat: Transcript) -> None:
    reply = chat.ask("summarise this month's Tel Aviv leads", as_="partner:tel-aviv")
    assert not reply.files and "only staff and managers may see" in reply.text


def test_an_offer_sheet_in_chat(chat: Transcript) -> None:
    reply = chat.ask("What can we offer L-0005?", as_="staff")
    assert reply.citations and reply.text.startswith("Policies for Charlesgate")
    # This partner did not submit L-0005: partners get sheets for their own leads only.
    partner = chat.ask("What can we offer L-0005?", as_="partner:boston")
    assert not partner.citations and "only the leads they submitted" in partner.text
    guest = chat.ask("What can we offer L-0005?", as_="guest")
    assert not guest.citations and "guests may not see them" in guest.text


def test_look_alike_words_are_questions_not_lead_summaries(chat: Transcript) -> None:
    for question in (
        "Give me an overview of the leading semiconductor policies",
        "高新区重点项目概况",
    ):
        reply = chat.ask(question, as_="staff")
        assert not reply.files and "only staff and managers" not in reply.text


def test_new_lead_starts_the_intake_and_questions_still_get_answers(chat: Transcript) -> None:
    started = chat.ask("new lead", as_="partner:munich", conversation="intake-1")
    assert "company's name" in started.text
    cancelled = chat.ask("cancel", as_="partner:munich", conversation="intake-1")
    assert "cancelled" in cancelled.text.lower()
    answer = chat.ask("研发用房租金怎么减免？", as_="guest", conversation="q-1")
    assert answer.citations and not answer.abstained
