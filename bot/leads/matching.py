"""Which division should take a lead: a deterministic scorer whose every point has a reason.

Weights (out of 1.0): sector overlap 0.5, node affinity 0.2, domestic partner region named in
the lead 0.1, a working language of the node's country 0.1, and up to 0.1 for the lightest
current workload, so that among equals the less busy division is suggested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.divisions import Division
from bot.llm import LLMClient
from knowledge.glossary import normalize
from knowledge.leads import CLOSED, Lead

SECTOR_WEIGHT = 0.5
NODE_WEIGHT = 0.2
REGION_WEIGHT = 0.1
LANGUAGE_WEIGHT = 0.1
WORKLOAD_WEIGHT = 0.1
# The language a node's partners speak, for the language criterion.
NODE_LANGUAGES = {"boston": "en", "cambridge": "en", "munich": "de", "tel-aviv": "he"}

_REASONS: dict[str, dict[str, str]] = {
    "sectors": {
        "en": "sector focus matches: {items}",
        "zh": "产业方向匹配：{items}",
        "de": "Branchenschwerpunkt passt: {items}",
        "fr": "secteurs correspondants : {items}",
        "ko": "중점 산업 일치: {items}",
        "he": "התאמת תחומי מיקוד: {items}",
    },
    "no_sectors": {
        "en": "no sector in common",
        "zh": "无重合产业方向",
        "de": "keine gemeinsame Branche",
        "fr": "aucun secteur commun",
        "ko": "공통 산업 없음",
        "he": "אין תחום משותף",
    },
    "node": {
        "en": "works with the {items} node",
        "zh": "对接{items}节点",
        "de": "betreut den Knoten {items}",
        "fr": "suit le nœud de {items}",
        "ko": "{items} 거점 담당",
        "he": "עובד עם צומת {items}",
    },
    "region": {
        "en": "partner region named in the lead: {items}",
        "zh": "线索提及合作区域：{items}",
        "de": "Partnerregion im Lead genannt: {items}",
        "fr": "région partenaire citée : {items}",
        "ko": "협력 지역 언급: {items}",
        "he": "אזור שותף מוזכר: {items}",
    },
    "language": {
        "en": "speaks {items}",
        "zh": "具备{items}语言对接能力",
        "de": "spricht {items}",
        "fr": "parle {items}",
        "ko": "{items} 대응 가능",
        "he": "דובר {items}",
    },
    "workload": {
        "en": "{items} open leads at present",
        "zh": "当前在办线索{items}条",
        "de": "derzeit {items} offene Leads",
        "fr": "{items} leads en cours",
        "ko": "현재 진행 중 리드 {items}건",
        "he": "{items} לידים פתוחים כעת",
    },
}


@dataclass(frozen=True)
class Reason:
    code: str
    items: str
    points: float

    def render(self, language: str) -> str:
        templates = _REASONS[self.code]
        text = templates.get(language, templates["en"]).format(items=self.items)
        return f"{text} (+{self.points:.2f})" if self.points else text

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "items": self.items, "points": round(self.points, 3)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Reason:
        return Reason(str(data["code"]), str(data.get("items", "")), float(data.get("points", 0)))


@dataclass(frozen=True)
class DivisionMatch:
    division: Division
    score: float
    reasons: tuple[Reason, ...]


def open_workload(leads: Sequence[Lead]) -> dict[str, int]:
    load: dict[str, int] = {}
    for lead in leads:
        if lead.assigned_division and lead.stage not in {s.value for s in CLOSED}:
            load[lead.assigned_division] = load.get(lead.assigned_division, 0) + 1
    return load


def rank_divisions(
    lead: Lead, divisions: Sequence[Division], workload: dict[str, int] | None = None
) -> list[DivisionMatch]:
    """Every division with its score and reasons, best first (ties by division order)."""
    workload = workload or {}
    busiest = max((workload.get(d.key, 0) for d in divisions), default=0)
    text = normalize(" ".join((lead.title, lead.summary, lead.city)))
    node_language = NODE_LANGUAGES.get(lead.node, lead.language)
    matches = []
    for division in divisions:
        reasons: list[Reason] = []
        common = [s for s in lead.sectors if s in division.sectors]
        if common and lead.sectors:
            points = SECTOR_WEIGHT * len(common) / len(lead.sectors)
            reasons.append(Reason("sectors", ", ".join(common), points))
        else:
            reasons.append(Reason("no_sectors", "", 0.0))
        if lead.node in division.nodes:
            reasons.append(Reason("node", lead.node, NODE_WEIGHT))
        regions = [r for r in division.partner_regions if normalize(r) in text]
        if regions:
            reasons.append(Reason("region", ", ".join(regions), REGION_WEIGHT))
        if node_language in division.languages:
            reasons.append(Reason("language", node_language, LANGUAGE_WEIGHT))
        load = workload.get(division.key, 0)
        spare = WORKLOAD_WEIGHT * (1 - load / busiest) if busiest else WORKLOAD_WEIGHT
        reasons.append(Reason("workload", str(load), spare))
        matches.append(DivisionMatch(division, sum(r.points for r in reasons), tuple(reasons)))
    order = {d.key: i for i, d in enumerate(divisions)}
    return sorted(matches, key=lambda m: (-round(m.score, 6), order[m.division.key]))


def suggest_division(divisions: Sequence[Division]) -> Callable[[Lead, dict[str, int]], Lead]:
    """The lead store's suggester: the best division, its score and reasons on the lead."""

    def suggest(lead: Lead, workload: dict[str, int]) -> Lead:
        ranked = rank_divisions(lead, divisions, workload)
        if not ranked:
            return lead
        best = ranked[0]
        return replace(
            lead,
            suggested_division=best.division.key,
            suggested_score=round(best.score, 3),
            suggested_reasons=[r.as_json() for r in best.reasons],
        )

    return suggest


async def rationale(llm: LLMClient | None, lead: Lead, match: DivisionMatch, language: str) -> str:
    """One sentence of rationale from the LLM; empty without one or when it fails (the
    scorer's reasons stand on their own)."""
    if llm is None:
        return ""
    import prompts
    from bot import i18n
    from bot.llm import LLMUnavailable

    facts = (
        f"{lead.company} ({lead.node}); sectors: {', '.join(lead.sectors) or '-'}; "
        f"needs: {', '.join(lead.needs) or '-'}; {lead.city} {lead.country}".strip()
    )
    prompt = prompts.render(
        "match_rationale.user",
        language_name=i18n.language_name(language),
        lead=facts,
        division=f"{match.division.name_en} / {match.division.name_zh}",
        reasons="; ".join(r.render("en") for r in match.reasons),
    )
    try:
        text = await llm.complete([{"role": "user", "content": prompt}], max_tokens=120)
    except LLMUnavailable:
        return ""
    return " ".join(text.split())
