from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.leads.access import LeadForbidden, LeadNotFound
from bot.leads.offer import chat_offer, offer_sheet
from bot.llm import LLMClient
from bot.messages import Reply
from bot.settings import load_settings
from knowledge.ingest import SAMPLES_DIR
from knowledge.leads import Lead, LeadError
from tests.conftest import run_cli
from tests.fake_openai import FakeOpenAI, serve_fake_openai

# Pinned so that what is current does not move with the calendar: the listing reward
# (2023–2025) has expired by then, every other sample policy is in force.
TODAY = dt.date(2026, 6, 1)
REPO = Path(__file__).resolve().parents[1]
POLICY_LINE = re.compile(
    r"^\s+- (?P<title>.+?)(?: \([^()]*〔\d{4}〕[^()]*\))?: (?P<quote>.+) \[\d+\]$"
)


def _lead(services, lead_id: str = "L-0005") -> Lead:  # type: ignore[no-untyped-def]
    # Charlesgate Cell Therapeutics: biomedicine; needs lab, land, funding, talent; an
    # internal lead with a contact person and an investment figure.
    return services.leads.require(lead_id)


def _sheet(services, lead: Lead, role: str = "staff", language: str = "zh", **kw: Any) -> Reply:  # type: ignore[no-untyped-def]
    return asyncio.run(offer_sheet(services, lead, role=role, language=language, today=TODAY, **kw))


def _as_written(doc_id: str) -> str:
    """A policy file's text the way quotes are printed: no bold marks, table cells apart."""
    path = next(p for p in SAMPLES_DIR.rglob("*.md") if f"\nid: {doc_id}\n" in p.read_text("utf-8"))
    text = path.read_text(encoding="utf-8").replace("**", "")
    return re.sub(r"\s*\|\s*", " | ", text)


def _llm(base_url: str, **extra: object) -> LLMClient:
    return LLMClient(
        load_settings(
            ZBRAIN_LLM_MODEL="fake-chat",
            OPENAI_BASE_URL=base_url,
            OPENAI_API_KEY="sk-test",
            **extra,
        )
    )


def test_lab_and_talent_lead_gets_rent_relief_and_talent_support_with_figures(
    sample_services,  # type: ignore[no-untyped-def]
) -> None:
    reply = _sheet(sample_services, _lead(sample_services))
    assert reply.mode == "extractive" and reply.text.startswith(
        "Charlesgate Cell Therapeutics, Inc. 可享政策"
    )
    assert "以下为知识库原文摘录" in reply.text
    titles = {c.title: c for c in reply.citations}
    lab = titles["郑州高新区研发用房与实验室租金减免办法"]
    talent = titles["郑州高新区高层次人才安家补贴及生活保障实施细则"]
    # The figures as zh-lab-rent-relief.md and zh-talent-housing-subsidy.md state them.
    assert "前两年免租、后三年减半，载体参考租金为45元/平方米/月" in reply.text
    assert "A类 | 顶尖人才（诺贝尔奖获得者、两院院士等） | 500万元" in reply.text
    lab_section = reply.text.split("• 实验室:")[1].split("•")[0]
    talent_section = reply.text.split("• 人才:")[1].split("•")[0]
    assert f"[{lab.number}]" in lab_section and f"[{talent.number}]" in talent_section
    # Every policy line quotes its cited policy word for word and cites it.
    by_number = {c.number: c for c in reply.citations}
    lines = [line for line in reply.text.splitlines() if POLICY_LINE.match(line)]
    assert len(lines) >= 4
    for line in lines:
        number = int(re.findall(r"\[(\d+)\]$", line)[0])
        source = _as_written(by_number[number].doc_id)
        for quote in POLICY_LINE.match(line)["quote"].split("；"):  # type: ignore[index]
            assert quote in source, (quote, by_number[number].title)
    assert [c.number for c in reply.citations] == list(range(1, len(reply.citations) + 1))
    assert all(not c.expired for c in reply.citations)


def test_internal_policies_reach_staff_but_never_a_partner(sample_services) -> None:  # type: ignore[no-untyped-def]
    lead = _lead(sample_services)
    staff = _sheet(sample_services, lead, role="staff", language="en")
    partner = _sheet(sample_services, lead, role="partner", language="en")
    internal = [c for c in staff.citations if c.visibility == "internal"]
    assert internal, "for land, staff see the internal concession rules"
    assert "internal material, do not forward" in staff.text
    assert partner.citations
    assert {c.visibility for c in partner.citations} <= {"public", "partner"}
    for citation in internal:
        assert citation.title not in partner.text
    assert "do not forward" not in partner.text
    # With the internal rules out of reach, land has nothing current for the partner.
    assert "No current policy found for: Land" in partner.text


def test_partner_sheet_names_the_company_and_nothing_else_of_the_lead(sample_services) -> None:  # type: ignore[no-untyped-def]
    lead = _lead(sample_services)
    assert lead.contact_name and lead.investment_amount  # the record does hold them
    text = _sheet(sample_services, lead, role="partner", language="en").text
    assert text.startswith("Policies for Charlesgate Cell Therapeutics, Inc.")
    for private in (
        lead.contact_name,
        lead.contact_email,
        "25,000,000",
        "25000000",
        "Grace Liu",
        "通用型（异体）CAR-T",
    ):
        assert private not in text


@pytest.mark.parametrize(
    ("language", "heading", "labels"),
    [
        ("zh", "Charlesgate Cell Therapeutics, Inc. 可享政策", ("• 实验室:", "• 人才:")),
        ("en", "Policies for Charlesgate", ("• Lab:", "• Talent:")),
        ("de", "Förderangebote für Charlesgate", ("• Labor:", "• Fachkräfte:")),
        ("fr", "Mesures de soutien pour Charlesgate", ("• Laboratoire:", "• Talents:")),
        ("ko", "적용 가능 정책", ("• 실험실:", "• 인재:")),
        ("he", "מדיניות ותמריצים עבור", ("• מעבדה:", "• כישרונות:")),
    ],
)
def test_sheet_speaks_the_askers_language(
    sample_services,  # type: ignore[no-untyped-def]
    language: str,
    heading: str,
    labels: tuple[str, ...],
) -> None:
    reply = _sheet(sample_services, _lead(sample_services), role="partner", language=language)
    assert reply.language == language
    assert heading in reply.text.splitlines()[0]
    for label in labels:
        assert label in reply.text
    # The figures stay quoted in the policies' own language.
    assert "前两年免租、后三年减半" in reply.text


def test_only_policies_in_force_are_offered(sample_services) -> None:  # type: ignore[no-untyped-def]
    lead = Lead(company="Neckar Listing AG", node="munich", sectors=["agritech"], needs=["listing"])
    then = asyncio.run(
        offer_sheet(sample_services, lead, role="staff", language="en", today=dt.date(2025, 6, 1))
    )
    assert [c.title for c in then.citations] == [
        "郑州高新区支持企业上市挂牌奖励办法（2023—2025年）"
    ]
    assert "完成股份制改造：奖励100万元" in then.text
    assert not then.citations[0].expired, "in force on the day asked about"
    now = _sheet(sample_services, lead, language="en")
    assert not now.citations
    assert now.text == (
        "Policies for Neckar Listing AG\n\n"
        "No current park policy matches this project's sectors and needs."
    )


def test_the_models_sheet_is_used_with_its_citations_renumbered(sample_services) -> None:  # type: ignore[no-untyped-def]
    lead = _lead(sample_services)
    written = (
        "• Labor: zwei Jahre mietfrei, danach drei Jahre halbe Miete [3]; "
        "Umbauzuschuss bis 1 Mio. RMB [3].\n"
        "• Fachkräfte: bis zu 5 Mio. RMB Ansiedlungszuschuss [1][99]."
    )
    with serve_fake_openai(FakeOpenAI(responder=lambda body: written)) as fake:
        reply = _sheet(
            sample_services, lead, role="partner", language="de", llm=_llm(fake.base_url)
        )
        prompt = "\n".join(m["content"] for m in fake.chat_requests()[0]["messages"])
    assert reply.mode == "llm"
    assert reply.text.startswith("Förderangebote für Charlesgate Cell Therapeutics, Inc.")
    assert "zwei Jahre mietfrei" in reply.text and "[99]" not in reply.text
    assert re.findall(r"\[(\d+)\]", reply.text) == ["1", "1", "2"]
    assert [c.number for c in reply.citations] == [1, 2]
    assert "Auszüge aus der Wissensdatenbank" not in reply.text
    # The prompt holds the numbered policies and the company's name, nothing else of the lead.
    assert "<sources>" in prompt and "German (Deutsch)" in prompt
    assert "前两年免租、后三年减半" in prompt and "Charlesgate Cell Therapeutics" in prompt
    for private in (lead.contact_email, lead.contact_name, "25000000", "通用型（异体）CAR-T"):
        assert private not in prompt


def test_a_failing_model_gives_the_extractive_sheet(sample_services) -> None:  # type: ignore[no-untyped-def]
    fake = FakeOpenAI(responder=lambda body: "never used [1]", failures=[500, 500, 500])
    with serve_fake_openai(fake):
        llm = _llm(fake.base_url, ZBRAIN_LLM_RETRIES=0)
        reply = _sheet(sample_services, _lead(sample_services), language="en", llm=llm)
        assert fake.chat_requests(), "the model was asked first"
    assert reply.mode == "extractive"
    assert "Excerpts from the knowledge base, quoted as written" in reply.text
    assert "前两年免租、后三年减半" in reply.text and reply.citations


def test_chat_offer_hook_follows_who_asks(sample_services) -> None:  # type: ignore[no-untyped-def]
    offer = chat_offer(sample_services)
    submitter = sample_services.leads.require("L-0005").submitted_by
    reply = asyncio.run(offer("l-0005", "partner", "fr", submitter))
    assert reply.text.startswith("Mesures de soutien pour Charlesgate Cell Therapeutics, Inc.")
    assert reply.citations and "Dr. Helen Zhao" not in reply.text
    # A partner asks only about the leads they submitted.
    with pytest.raises(LeadForbidden, match="partners see only the leads they submitted"):
        asyncio.run(offer("L-0005", "partner", "fr", "telegram:someone-else"))
    with pytest.raises(LeadError, match="only managers"):
        asyncio.run(offer("L-0001", "staff", "en"))  # restricted
    with pytest.raises(LeadError, match="guests"):
        asyncio.run(offer("L-0005", "guest", "en"))
    with pytest.raises(LeadNotFound):
        asyncio.run(offer("L-9999", "staff", "en"))
    assert asyncio.run(offer("L-0001", "manager", "en")).citations


def test_cli_offer_for_a_partner(sample_services, samples_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The session's embedding cache holds the embeddings of every sample text (the sample
    # services filled it; their own database holds none); a copy of it as the child's cache
    # spares the fresh data dir embedding them all again.
    cache = tmp_path / "embedding-cache.db"
    shared = sample_services.settings.resolved_embedding_cache_url.removeprefix("sqlite:///")
    source, target = sqlite3.connect(shared), sqlite3.connect(cache)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    env = {
        **samples_env,
        "ZBRAIN_EMBEDDING_CACHE_URL": f"sqlite:///{cache}",
        # The child imports the code under test even when another checkout is installed.
        "PYTHONPATH": str(REPO),
    }
    submitter = sample_services.leads.require("L-0005").submitted_by
    result = run_cli(
        "leads", "offer", "L-0005", "--as", "partner", "--by", submitter, "--lang", "de",
        "--json", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["company"] == "Charlesgate Cell Therapeutics, Inc." and data["language"] == "de"
    assert data["sheet"].startswith("Förderangebote für Charlesgate Cell Therapeutics, Inc.")
    assert data["citations"] and {c["visibility"] for c in data["citations"]} == {"public"}
    assert "h.zhao@example.com" not in result.stdout and "Helen Zhao" not in result.stdout
    not_theirs = run_cli("leads", "offer", "L-0005", "--as", "partner", env=env)
    assert not_theirs.returncode == 2 and "only the leads they submitted" in not_theirs.stderr
    refused = run_cli("leads", "offer", "L-0001", "--as", "staff", env=env)
    assert refused.returncode == 2 and "only managers" in refused.stderr

    # In Chinese, the sheet's labels are Chinese down to the kind of each source.
    sheet = run_cli(
        "leads", "offer", "L-0005", "--as", "partner", "--by", submitter, "--lang", "zh", env=env
    )  # fmt: skip
    assert sheet.returncode == 0, sheet.stderr
    sources = sheet.stdout.split("\n来源\n")[1]
    assert "（政策" in sources or "(政策" in sources
    assert "policy" not in sources
    # So are the division ranking's scores, reasons and footer.
    match = run_cli("leads", "match", "L-0005", "--lang", "zh", env=env)
    assert match.returncode == 0, match.stderr
    lead = _lead(sample_services)
    named = set(re.findall(r"[A-Za-z]{3,}", f"{lead.display_title()} {lead.company}"))
    assert "评分" in match.stdout and "已记录到 L-0005" in match.stdout
    assert set(re.findall(r"[A-Za-z]{3,}", match.stdout)) <= named
