"""A lead summary as a chat reply: the narrative, the key figures and the chart as a PNG."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace

from sqlalchemy import Engine

from bot import i18n
from bot.leads.access import LeadAccess
from bot.leads.chart import summary_chart
from bot.leads.labels import division_name, name
from bot.leads.narrative import narrate
from bot.leads.summary import LeadSummary, SummaryFilter, summarize
from bot.llm import LLMClient
from bot.messages import Attachment, Reply
from bot.services import Services

CHART_FILENAME = "leads-summary.png"
LISTED = 10  # ids shown per list in chat; the rest are counted

_LABELS: dict[str, dict[str, str]] = {
    "by_stage": {
        "zh": "按阶段",
        "en": "By stage",
        "de": "Nach Phase",
        "fr": "Par étape",
        "ko": "단계별",
        "he": "לפי שלב",
    },
    "by_node": {
        "zh": "按节点",
        "en": "By node",
        "de": "Nach Knoten",
        "fr": "Par nœud",
        "ko": "노드별",
        "he": "לפי צומת",
    },
    "by_sector": {
        "zh": "按产业",
        "en": "By sector",
        "de": "Nach Branche",
        "fr": "Par secteur",
        "ko": "산업별",
        "he": "לפי ענף",
    },
    "by_division": {
        "zh": "按事业部",
        "en": "By division",
        "de": "Nach Geschäftsbereich",
        "fr": "Par division",
        "ko": "사업부별",
        "he": "לפי אגף",
    },
    "stalled": {
        "zh": "停滞",
        "en": "Stalled",
        "de": "Ins Stocken geraten",
        "fr": "Au point mort",
        "ko": "정체",
        "he": "תקועים",
    },
    "unassigned": {
        "zh": "待分配（建议事业部）",
        "en": "Awaiting a division (suggested)",
        "de": "Ohne Geschäftsbereich (Vorschlag)",
        "fr": "Sans division (suggestion)",
        "ko": "사업부 미배정(추천)",
        "he": "ממתינים לאגף (הצעה)",
    },
    "more": {
        "zh": "另有 {n} 条",
        "en": "{n} more",
        "de": "{n} weitere",
        "fr": "{n} de plus",
        "ko": "외 {n}건",
        "he": "ועוד {n}",
    },
    "refused": {
        "zh": "线索属于内部资料，只有工作人员和管理人员可以查看汇总。",
        "en": "Leads are internal material: only staff and managers may see their summary.",
        "de": "Leads sind interne Unterlagen: nur Mitarbeitende und Führungskräfte sehen die "
        "Übersicht.",
        "fr": "Les pistes sont des documents internes : seuls le personnel et les responsables "
        "peuvent en voir le résumé.",
        "ko": "리드는 내부 자료이므로 직원과 관리자만 요약을 볼 수 있습니다.",
        "he": "לידים הם חומר פנימי: רק עובדים ומנהלים רשאים לראות את הסיכום.",
    },
}
_SEPARATOR = {"zh": "、"}


def _label(key: str, language: str) -> str:
    return _LABELS[key][language]


def _counted(counts: dict[str, int], named: dict[str, str], language: str) -> str:
    separator = _SEPARATOR.get(language, ", ")
    return separator.join(f"{named.get(k, k)} {n}" for k, n in counts.items() if n)


def _listed(items: list[str], language: str) -> str:
    shown = ", ".join(items[:LISTED])
    if len(items) > LISTED:
        shown += f" ({_LABELS['more'][language].format(n=len(items) - LISTED)})"
    return shown


def key_figures(summary: LeadSummary, language: str) -> str:
    """The counts behind the narrative, one line each, names in the asker's language."""
    groups = (
        ("by_stage", summary.by_stage, lambda k: name("stages", k, language)),
        ("by_node", summary.by_node, lambda k: name("nodes", k, language)),
        ("by_sector", summary.by_sector, lambda k: name("sectors", k, language)),
        ("by_division", summary.by_division, lambda k: division_name(k, language)),
    )
    lines = [
        f"{_label(key, language)}: {_counted(counts, {k: named(k) for k in counts}, language)}"
        for key, counts, named in groups
    ]
    if summary.stalled:
        lines.append(f"{_label('stalled', language)}: {_listed(summary.stalled, language)}")
    if summary.unassigned:
        entries = [
            f"{lead['id']} {lead['company']}"
            + (
                f" → {division_name(lead['suggested_division'], language)}"
                if lead.get("suggested_division")
                else ""
            )
            for lead in summary.unassigned
        ]
        lines.append(f"{_label('unassigned', language)}: {_listed(entries, language)}")
    return "\n".join(lines)


def visible_levels(role: str) -> tuple[str, ...]:
    """The visibility levels a role may count (`bot.leads.access`, the rule the command line
    and offer sheets share); LeadError for roles that get no lead figures."""
    return tuple(sorted(LeadAccess(role).require_figures()))


async def summary_reply(
    source: Services | Engine,
    where: SummaryFilter,
    language: str,
    today: dt.date | None = None,
    llm: LLMClient | None = None,
    *,
    role: str = "staff",
) -> Reply:
    """The summary a manager asked for in chat: narrative, key figures, chart attached.

    Restricted leads are counted only for roles that may read them; a guest or partner gets
    a polite refusal (abstained), not figures."""
    language = i18n.supported(language)
    try:
        levels = visible_levels(role)
    except ValueError:  # LeadError, or a role that does not exist
        return Reply(text=_label("refused", language), language=language, abstained=True)
    engine = source.engine if isinstance(source, Services) else source
    if where.visibility is not None:
        levels = tuple(level for level in levels if level in where.visibility)
    scoped = replace(where, visibility=levels)
    summary = await asyncio.to_thread(summarize, engine, scoped, today)
    text, mode = await narrate(summary, language, llm)
    png = await asyncio.to_thread(summary_chart, summary, language)
    return Reply(
        text=f"{text}\n\n{key_figures(summary, language)}",
        files=(Attachment(CHART_FILENAME, png, "image/png"),),
        mode="llm" if mode == "llm" else "extractive",
        language=language,
    )
