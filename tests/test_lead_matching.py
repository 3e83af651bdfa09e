from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.divisions import load_divisions
from bot.leads.matching import rank_divisions, rationale, suggest_division
from bot.llm import LLMClient
from bot.settings import load_settings
from knowledge.lead_store import LeadStore
from knowledge.leads import Lead
from knowledge.sql import make_engine
from tests.fake_openai import FakeOpenAI, serve_fake_openai

DIVISIONS = load_divisions()


def lead(**values: object) -> Lead:
    base: dict[str, object] = {"company": "Test GmbH", "node": "munich", "sectors": ["hydrogen"]}
    base.update(values)
    return Lead(**base)  # type: ignore[arg-type]


def test_the_division_with_the_sector_and_node_ranks_first_with_its_reasons() -> None:
    ranked = rank_divisions(lead(), DIVISIONS)
    assert [m.division.key for m in ranked][0] == "pearl"
    best = ranked[0]
    codes = {r.code for r in best.reasons}
    assert {"sectors", "node", "workload"} <= codes
    assert best.score == pytest.approx(sum(r.points for r in best.reasons))
    assert best.score > ranked[1].score
    zh = [r.render("zh") for r in best.reasons]
    assert any("产业方向匹配：氢能" in line for line in zh)  # the sector named, not its id
    assert any(r.render("de").startswith("Branchenschwerpunkt passt") for r in best.reasons)


def test_a_partner_region_named_in_the_lead_counts() -> None:
    near = lead(sectors=["advanced-manufacturing"], summary="希望在上海附近设立供应链中心")
    far = lead(sectors=["advanced-manufacturing"], summary="")
    near_yangtze = next(m for m in rank_divisions(near, DIVISIONS) if m.division.key == "yangtze")
    far_yangtze = next(m for m in rank_divisions(far, DIVISIONS) if m.division.key == "yangtze")
    assert near_yangtze.score == pytest.approx(far_yangtze.score + 0.1)
    assert any(r.code == "region" and "上海" in r.items for r in near_yangtze.reasons)


def test_between_equals_the_less_busy_division_is_suggested() -> None:
    # AI is a focus of both bohai and yangtze, Cambridge a node of both, English spoken by both.
    even = lead(node="cambridge", sectors=["ai"])
    assert rank_divisions(even, DIVISIONS, {"bohai": 0, "yangtze": 5})[0].division.key == "bohai"
    assert rank_divisions(even, DIVISIONS, {"bohai": 5, "yangtze": 0})[0].division.key == "yangtze"


def test_divisions_come_from_the_file_a_user_edits(tmp_path: Path) -> None:
    edited = tmp_path / "divisions.yaml"
    edited.write_text(
        "divisions:\n"
        "  - {key: central, name_zh: 中部事业部, name_en: Central Division,"
        " sectors: [hydrogen], nodes: [munich], languages: [de]}\n"
        "  - {key: bohai, name_zh: 环渤海事业部, name_en: Bohai Rim Division,"
        " sectors: [ai], nodes: [boston]}\n",
        encoding="utf-8",
    )
    ranked = rank_divisions(lead(), load_divisions(edited))
    assert [m.division.key for m in ranked] == ["central", "bohai"]


def test_a_saved_lead_carries_its_suggestion(tmp_path: Path) -> None:
    store = LeadStore(make_engine(f"sqlite:///{tmp_path / 'l.db'}"))
    store.suggester = suggest_division(DIVISIONS)
    saved = store.create(lead(), "munich-node")
    assert saved.suggested_division == "pearl" and saved.suggested_score
    assert {r["code"] for r in saved.suggested_reasons} >= {"sectors", "node"}
    # Another lead assigned elsewhere changes workloads, not the history of this one.
    store.create(lead(company="Other AG", assigned_division="pearl"), "munich-node")
    store.save_many([store.require(saved.id)], "someone")
    assert [e.field for e in store.history(saved.id)] == ["created"]


def test_with_an_llm_one_sentence_of_rationale_is_added_and_a_failure_adds_none() -> None:
    best = rank_divisions(lead(), DIVISIONS)[0]
    sentence = "珠三角事业部专注氢能，并对接慕尼黑节点。"
    with serve_fake_openai(FakeOpenAI(responder=lambda body: sentence)) as fake:
        settings = load_settings(
            OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="k", ZBRAIN_LLM_MODEL="m"
        )
        assert asyncio.run(rationale(LLMClient(settings), lead(), best, "zh")) == sentence
        prompt = fake.prompts_containing("Suggested division")[0]
        assert "Pearl River Delta Division" in prompt and "Chinese" in prompt
    with serve_fake_openai(FakeOpenAI(failures=[500] * 10)) as broken:
        settings = load_settings(
            OPENAI_BASE_URL=broken.base_url,
            OPENAI_API_KEY="k",
            ZBRAIN_LLM_MODEL="m",
            ZBRAIN_LLM_RETRIES=0,
        )
        assert asyncio.run(rationale(LLMClient(settings), lead(), best, "zh")) == ""
    assert asyncio.run(rationale(None, lead(), best, "zh")) == ""
