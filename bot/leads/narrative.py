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
from bot.leads.summary import LeadSummary
from bot.llm import LLMClient, LLMUnavailable

log = logging.getLogger(__name__)

Mode = Literal["llm", "template"]
TOP_STAGES = 3
LLM_LARGEST = 3

_TEMPLATES: dict[str, dict[str, str]] = {
    "none": {
        "zh": "没有符合条件的线索。",
        "en": "No leads match these filters.",
        "de": "Keine Leads entsprechen diesen Filtern.",
        "fr": "Aucune piste ne correspond à ces filtres.",
        "ko": "조건에 맞는 리드가 없습니다.",
        "he": "אין לידים התואמים לסינון זה.",
    },
    "total": {
        "zh": "符合条件的线索：{total} 条。按阶段：{stages}。",
        "en": "Leads matching: {total}. By stage: {stages}.",
        "de": "Passende Leads: {total}. Nach Phase: {stages}.",
        "fr": "Pistes correspondantes : {total}. Par étape : {stages}.",
        "ko": "조건에 맞는 리드: {total}건. 단계별: {stages}.",
        "he": "לידים תואמים: {total}. לפי שלב: {stages}.",
    },
    "period": {
        "zh": "{start} 至 {end}：新增 {new} 条，推进 {advanced} 条；"
        "停滞（{days} 天以上无变化）{stalled} 条。",
        "en": "From {start} to {end}: added {new}, moved forward {advanced}; "
        "stalled (no change for {days} days or more) {stalled}.",
        "de": "Vom {start} bis {end}: neu angelegt {new}, weitergekommen {advanced}; "
        "ins Stocken geraten (seit {days} Tagen oder länger unverändert) {stalled}.",
        "fr": "Du {start} au {end} : ajoutées {new}, ayant progressé {advanced} ; "
        "au point mort (sans changement depuis {days} jours ou plus) {stalled}.",
        "ko": "{start} ~ {end}: 신규 등록 {new}건, 진전 {advanced}건; "
        "정체({days}일 이상 변화 없음) {stalled}건.",
        "he": "מ-{start} עד {end}: נוספו {new}, התקדמו {advanced}; "
        "תקועים (ללא שינוי {days} ימים או יותר) {stalled}.",
    },
    "largest": {
        "zh": "投资额最大：{company}，{amount}。",
        "en": "Largest by investment: {company}, {amount}.",
        "de": "Größte Investition: {company}, {amount}.",
        "fr": "Plus gros investissement : {company}, {amount}.",
        "ko": "최대 투자 규모: {company}, {amount}.",
        "he": "ההשקעה הגדולה ביותר: {company}, {amount}.",
    },
    "unassigned": {
        "zh": "待分配事业部：{unassigned} 条（其中 {suggested} 条已有建议事业部）。",
        "en": "Awaiting a division: {unassigned} ({suggested} with a suggested one).",
        "de": "Warten auf einen Geschäftsbereich: {unassigned} (davon {suggested} mit Vorschlag).",
        "fr": "En attente d'une division : {unassigned} (dont {suggested} avec une suggestion).",
        "ko": "사업부 배정 대기: {unassigned}건(그중 {suggested}건은 추천 사업부 있음).",
        "he": "ממתינים לשיוך לאגף: {unassigned} (מתוכם {suggested} עם אגף מוצע).",
    },
    "all_assigned": {
        "zh": "所有在办线索均已分配事业部。",
        "en": "Every open lead has a division.",
        "de": "Jeder offene Lead hat einen Geschäftsbereich.",
        "fr": "Chaque piste ouverte a une division.",
        "ko": "진행 중인 모든 리드에 사업부가 배정되어 있습니다.",
        "he": "לכל הלידים הפתוחים יש אגף משויך.",
    },
}
_LIST_SEPARATOR = {"zh": "、", "ko": ", ", "en": ", ", "de": ", ", "fr": ", ", "he": ", "}
_THOUSANDS = {"de": ".", "fr": "\u202f"}
# A number as people and models write it: 12,000,000 / 12.000.000 / 12 000 000 / 2.5 / 2026.
_NUMBER = re.compile(r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?!\d)|\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"(\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+)(?:[.,](\d+))?")


def amount_text(amount: float, currency: str | None, language: str) -> str:
    """An amount as the node reported it, grouped the way the reader's language groups
    thousands (a German reader takes 12,000 for twelve)."""
    digits = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    separator = _THOUSANDS.get(language)
    if separator is not None:
        digits = digits.replace(",", "\0").replace(".", ",").replace("\0", separator)
    return f"{digits} {currency or ''}".strip()


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
    language = i18n.supported(language)
    text = _TEMPLATES
    if summary.total == 0:
        return text["none"][language]
    figures = counts(summary)
    top = sorted(
        ((n, stage) for stage, n in summary.by_stage.items() if n),
        key=lambda item: -item[0],
    )[:TOP_STAGES]
    stages = _LIST_SEPARATOR[language].join(f"{name('stages', s, language)} {n}" for n, s in top)
    sentences = [
        text["total"][language].format(total=figures["total"], stages=stages),
        text["period"][language].format(
            start=summary.period_start,
            end=summary.period_end,
            days=summary.filters.get("stalled_days", ""),
            **figures,
        ),
    ]
    if summary.largest:
        largest = summary.largest[0]
        sentences.append(
            text["largest"][language].format(
                company=largest["company"],
                amount=amount_text(largest["amount"], largest["currency"], language),
            )
        )
    if figures["unassigned"]:
        sentences.append(text["unassigned"][language].format(**figures))
    else:
        sentences.append(text["all_assigned"][language])
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
