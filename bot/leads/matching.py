"""Which division should take a lead: a deterministic scorer whose every point has a reason.

Weights (out of 1.0): sector overlap 0.5, node affinity 0.2, domestic partner region named in
the lead 0.1, a working language of the node's country 0.1, and up to 0.1 for the lightest
current workload, so that among equals the less busy division is suggested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot import i18n
from bot.divisions import Division
from bot.leads.labels import name, spoken_language
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


@dataclass(frozen=True)
class Reason:
    code: str
    items: str
    points: float

    def render(self, language: str) -> str:
        """The reason in the reader's language, its ids (sectors, node, language) named the
        reader's way; the message ids are "match.reason.<code>"."""
        if self.code == "workload":
            text = i18n.plural("match.reason.workload", _count(self.items), language)
        elif i18n.has(f"match.reason.{self.code}"):
            text = i18n.text(f"match.reason.{self.code}", language, items=self._named(language))
        else:
            text = self.items  # the model's own sentence ("llm"), already in the language
        if not self.points:
            return text
        return f"{text} (+{i18n.number(self.points, language, digits=2)})"

    def _named(self, language: str) -> str:
        # Stored as the scorer wrote them: ids joined with ", ".
        items = [item for item in self.items.split(", ") if item]
        match self.code:
            case "sectors":
                items = [name("sectors", item, language) for item in items]
            case "node":
                items = [name("nodes", item, language) for item in items]
            case "language":
                items = [spoken_language(item, language) for item in items]
        return i18n.list_of(items, language)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "items": self.items, "points": round(self.points, 3)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Reason:
        return Reason(str(data["code"]), str(data.get("items", "")), float(data.get("points", 0)))


def _count(items: str) -> int:
    try:
        return int(items)
    except ValueError:
        return 0


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
