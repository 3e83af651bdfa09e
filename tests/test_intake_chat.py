"""The lead intake as a person meets it in chat (tests/transcript.py): it asks only what the
description left out, refuses answers that do not fit in the form's language, takes
corrections at the draft, and never names a twin the asker may not see."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.runtime import build_runtime
from knowledge.leads import Lead
from tests.transcript import CapturingPoster, Transcript

ZUGSPITZE = (
    "new lead: Zugspitze Electrolysis GmbH from the Munich node, hydrogen electrolysers, "
    "EUR 15 million, 60 jobs, needs land and funding"
)


@pytest.fixture
def chat(services_factory) -> Iterator[Transcript]:  # type: ignore[no-untyped-def]
    transcript = Transcript(build_runtime(services=services_factory()))
    yield transcript
    transcript.close()


def test_only_what_the_description_left_out_is_asked_in_its_language(chat: Transcript) -> None:
    first = chat.ask(ZUGSPITZE, as_="staff")
    # "GmbH" once made the whole form German; the company, investment and jobs were asked.
    assert first.language == "en" and first.text.startswith("Contact person")
    draft = chat.ask("skip", as_="staff").text
    assert "Company: Zugspitze Electrolysis GmbH" in draft and "Node: Munich" in draft
    assert "Sectors: hydrogen" in draft and "Needs: land, funding" in draft
    assert "Investment: 15,000,000 EUR" in draft and "Expected jobs: 60" in draft
    assert chat.ask("yes", as_="staff").text.startswith("Saved as L-0001")
    lead = chat.runtime.services.leads.require("L-0001")
    assert (lead.company, lead.node, lead.expected_jobs, lead.language) == (
        "Zugspitze Electrolysis GmbH", "munich", 60, "en",
    )  # fmt: skip


def test_answers_that_do_not_fit_are_refused_in_the_form_s_language(chat: Transcript) -> None:
    assert (
        "企业名称是" in chat.ask("新线索：一家以色列农业科技公司想在郑州做示范", as_="staff").text
    )
    assert "海外节点" in chat.ask("Negev Water Ltd", as_="staff").text
    assert "这不是我们的海外节点" in chat.ask("巴黎", as_="staff").text
    assert "预计投资额" in chat.ask("特拉维夫", as_="staff").text  # the sector was in the text
    refused = chat.ask("很多", as_="staff")
    assert "这不是有效的金额" in refused.text and refused.language == "zh"
    assert "就业岗位" in chat.ask("2000万美元", as_="staff").text
    assert "就业岗位数须为大于零的整数" in chat.ask("-5", as_="staff").text
    assert "需求" in chat.ask("60", as_="staff").text
    assert "联系人" in chat.ask("跳过", as_="staff").text
    assert "“25”既不是姓名" in chat.ask("25", as_="staff").text
    draft = chat.ask("王强, wq@example.cn", as_="staff").text
    assert "请确认线索草稿" in draft and "投资额：20,000,000 USD" in draft
    chat.ask("确认", as_="staff")
    lead = chat.runtime.services.leads.require("L-0001")
    assert (lead.node, lead.sectors, lead.expected_jobs) == ("tel-aviv", ["agritech"], 60)
    assert (lead.investment_amount, lead.investment_currency) == (20_000_000, "USD")


def test_a_sector_must_be_a_sector_with_did_you_mean_in_french(chat: Transcript) -> None:
    first = chat.ask("nouveau lead : Alpes Énergie SAS, nœud de Munich, 60 emplois", as_="staff")
    assert first.language == "fr" and "Quels secteurs" in first.text
    assert (
        "« Munich » n'est pas un secteur que nous connaissons"
        in chat.ask("Munich", as_="staff").text
    )
    assert "« 2000万美元 » n'est pas un secteur" in chat.ask("2000万美元", as_="staff").text
    suggested = chat.ask("hydrogne", as_="staff").text
    assert "Vouliez-vous dire hydrogène ?" in suggested
    assert "Investissement prévu" in chat.ask("hydrogène", as_="staff").text


def _to_draft(chat: Transcript, description: str, *answers: str) -> str:
    reply = chat.ask(description, as_="staff").text
    for answer in answers:
        reply = chat.ask(answer, as_="staff").text
    return reply


def test_the_draft_is_corrected_field_by_field(chat: Transcript) -> None:
    draft = _to_draft(chat, ZUGSPITZE, "skip")
    assert "Investment: 15,000,000 EUR" in draft
    corrected = chat.ask("investment: EUR 20m", as_="staff").text
    assert "Please check the draft" in corrected and "Investment: 20,000,000 EUR" in corrected
    which = chat.ask("no", as_="staff").text  # once it only showed the draft again
    assert "Which field should I change?" in which and "Expected jobs" in which
    assert "How many jobs" in chat.ask("Expected jobs", as_="staff").text
    assert "whole number above zero" in chat.ask("-5", as_="staff").text
    again = chat.ask("80", as_="staff").text
    assert "Expected jobs: 80" in again and "Investment: 20,000,000 EUR" in again
    assert "Expected jobs: 80" in chat.ask("jobs: 80", as_="staff").text
    assert "Please reply" in chat.ask("hmm", as_="staff").text
    assert chat.ask("yes", as_="staff").text.startswith("Saved as L-0001")
    lead = chat.runtime.services.leads.require("L-0001")
    assert (lead.investment_amount, lead.expected_jobs) == (20_000_000, 80)


def test_a_correction_is_understood_in_chinese_and_german(chat: Transcript) -> None:
    zh = "新线索：慕尼黑节点推荐的德国氢能科技有限公司，投资1500万欧元，创造60个就业岗位，需要用地"
    draft = _to_draft(chat, zh, "跳过")
    assert "请确认线索草稿" in draft
    corrected = chat.ask("投资额：2000万美元", as_="staff").text
    assert "投资额：20,000,000 USD" in corrected
    assert "这不是有效的金额" in chat.ask("投资额：很多", as_="staff").text
    chat.ask("取消", as_="staff")
    de = "Neuer Lead: Isar Lab GmbH aus München, 15 Mio. €, 60 Arbeitsplätze, braucht Labor"
    assert "Welche Branchen" in chat.ask(de, as_="staff").text
    draft = _to_draft(chat, "KI", "überspringen")
    assert "Bitte prüfen Sie den Entwurf" in draft and "Branchen: KI" in draft
    corrected = chat.ask("Sektor: Wasserstoff", as_="staff").text
    assert "Branchen: Wasserstoff" in corrected and "Bedarf: Labor" in corrected
    refused = chat.ask("Sektor: Einhörner", as_="staff").text
    assert '"Einhörner" ist keine uns bekannte Branche' in refused


def test_a_twin_the_asker_may_not_see_is_not_named(chat: Transcript, caplog) -> None:  # type: ignore[no-untyped-def]
    services = chat.runtime.services
    managers = CapturingPoster()
    chat.runtime.settings.digest_channel = "managers:room"
    chat.runtime.posters.register("managers:", managers)
    hidden = Lead(company="Zugspitze Electrolysis GmbH", node="munich", visibility="restricted")
    services.leads.create(hidden, "munich-node")
    _to_draft(chat, ZUGSPITZE, "skip")
    with caplog.at_level(logging.WARNING, logger="bot.leads.intake"):
        saved = chat.ask("yes", as_="staff").text
    assert saved.startswith("Saved as L-0002") and "L-0001" not in saved
    assert "A similar lead already exists; a manager has been told." in saved
    assert "L-0001" not in services.leads.require("L-0002").summary
    assert "L-0002 may duplicate L-0001" in caplog.text
    # Only the managers' channel (the digest's) hears which restricted lead it resembles.
    [(channel, told)] = managers.posts
    assert channel == "managers:room" and "L-0001" in told.text and "L-0002" in told.text
