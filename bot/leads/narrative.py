"""A few sentences on a lead summary, in the asker's language.

With a language model the figures go to it as JSON and it writes 3–5 sentences; without one
(or when it fails, or writes a number the figures do not contain) a template says the same
plainly. Managers act on these numbers, so a wrong number is worse than a plain sentence.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

import prompts
from bot import i18n
from bot.leads.labels import division_name, name
from bot.leads.summary import STALLED_DAYS, LeadSummary
from bot.llm import LLMClient, LLMUnavailable

log = logging.getLogger(__name__)

Mode = Literal["llm", "template"]
TOP_STAGES = 3
LLM_LARGEST = 3

# A number as people and models write it: 12,000,000 / 12.000.000 / 12 000 000 / 2.5 / 2026.
_NUMBER = re.compile(r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"(\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+)(?:[.,](\d+))?")


def amount_text(amount: float, currency: str | None, language: str) -> str:
    """An amount in the currency the node reported, written the reader's way by Babel (a
    German reader takes 12,000 for twelve): '₩50,000,000,000', '50.000.000.000 ₩'."""
    if currency:
        return i18n.money(amount, currency, language)
    return i18n.number(amount, language, digits=None if float(amount).is_integer() else 2)


def counts(summary: LeadSummary) -> dict[str, int]:
    """The counts the narrative speaks of. A lead that moved forward twice counts once."""
    return {
        "total": summary.total,
        "new": len(summary.new),
        "advanced": len({move["id"] for move in summary.advanced}),
        "stalled": len(summary.stalled),
        "unassigned": len(summary.unassigned),
        "suggested": sum(1 for lead in summary.unassigned if lead.get("suggested_division")),
    }


def template_text(summary: LeadSummary, language: str) -> str:
    """The figures in plain sentences (message ids "narrative.*")."""
    language = i18n.supported(language)
    if summary.total == 0:
        return i18n.text("narrative.none", language)
    raw = counts(summary)
    figures = {k: i18n.number(n, language) for k, n in raw.items()}
    top = sorted(
        ((n, stage) for stage, n in summary.by_stage.items() if n),
        key=lambda item: -item[0],
    )[:TOP_STAGES]
    stages = i18n.list_of(
        [f"{name('stages', s, language)} {i18n.number(n, language)}" for n, s in top], language
    )
    sentences = [
        i18n.text("narrative.total", language, total=figures["total"], stages=stages),
        i18n.plural(
            "narrative.period",
            int(summary.filters.get("stalled_days", STALLED_DAYS)),
            language,
            start=summary.period_start,
            end=summary.period_end,
            new=figures["new"],
            advanced=figures["advanced"],
            stalled=figures["stalled"],
        ),
    ]
    if summary.largest:
        largest = summary.largest[0]
        sentences.append(
            i18n.text(
                "narrative.largest",
                language,
                company=largest["company"],
                amount=amount_text(largest["amount"], largest["currency"], language),
            )
        )
    if raw["unassigned"]:
        sentences.append(
            i18n.text(
                "narrative.unassigned",
                language,
                unassigned=figures["unassigned"],
                suggested=figures["suggested"],
            )
        )
    else:
        sentences.append(i18n.text("narrative.all_assigned", language))
    # Chinese runs sentences together; the other languages space them.
    return ("" if language == "zh" else " ").join(sentences)


def llm_figures(summary: LeadSummary, language: str) -> dict[str, Any]:
    """What the model sees: the counts with names in the asker's language, and amounts
    already written out, so it has nothing to compute or convert."""
    language = i18n.supported(language)
    figures = counts(summary)
    return {
        "period": {"from": summary.period_start, "to": summary.period_end},
        "filters": summary.filters,
        "total_leads": figures["total"],
        "by_stage": {name("stages", s, language): n for s, n in summary.by_stage.items() if n},
        "by_node": {name("nodes", k, language): n for k, n in summary.by_node.items()},
        "by_sector": {name("sectors", k, language): n for k, n in summary.by_sector.items()},
        "by_division": {division_name(k, language): n for k, n in summary.by_division.items()},
        "new_leads_in_period": figures["new"],
        "leads_moved_forward_in_period": figures["advanced"],
        "stalled_open_leads": figures["stalled"],
        "stalled_means_no_change_for_days": summary.filters.get("stalled_days"),
        "largest_by_investment": [
            {
                "company": lead["company"],
                "investment": amount_text(lead["amount"], lead["currency"], language),
            }
            for lead in summary.largest[:LLM_LARGEST]
        ],
        "leads_without_assigned_division": figures["unassigned"],
        "of_which_with_a_suggested_division": figures["suggested"],
    }


def numbers_in(text: str) -> set[float]:
    """Every number written in the text, thousands separators removed (2,500 and 2.500 are
    both 2500; 2,5 is two and a half)."""
    found: set[float] = set()
    for match in _NUMBER.finditer(text):
        raw = match.group()
        grouped = _GROUPED.fullmatch(raw)
        if grouped:
            whole = re.sub(r"\D", "", grouped.group(1))
            found.add(float(f"{whole}.{grouped.group(2) or 0}"))
        else:
            found.add(float(raw.replace(",", ".")))
    return found


async def narrate(
    summary: LeadSummary, language: str, llm: LLMClient | None = None
) -> tuple[str, Mode]:
    """(text, "llm" | "template"). A failing or inventive model degrades to the template."""
    language = i18n.supported(language)
    if llm is None or llm.breaker.is_open or summary.total == 0:
        return template_text(summary, language), "template"
    figures = json.dumps(llm_figures(summary, language), ensure_ascii=False, indent=1)
    prompt = prompts.render(
        "lead_summary.user", language_name=i18n.language_name(language), figures=figures
    )
    try:
        written = await llm.complete([{"role": "user", "content": prompt}], max_tokens=500)
    except LLMUnavailable as exc:
        log.warning("lead summary narrative from the template: %s", exc)
        return template_text(summary, language), "template"
    invented = numbers_in(written) - numbers_in(figures)
    if not written or invented:
        log.warning(
            "lead summary narrative from the template: the model wrote numbers not in the "
            "figures: %s",
            sorted(invented),
        )
        return template_text(summary, language), "template"
    return written, "llm"
