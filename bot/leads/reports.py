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


def _label(key: str, language: str) -> str:
    return i18n.text(f"summary.{key}", language)


def _line(key: str, items: str, language: str) -> str:
    return i18n.text("summary.line", language, label=_label(key, language), items=items)


def _counted(counts: dict[str, int], named: dict[str, str], language: str) -> str:
    return i18n.list_of(
        [f"{named.get(k, k)} {i18n.number(n, language)}" for k, n in counts.items() if n],
        language,
    )


def _listed(items: list[str], language: str) -> str:
    shown = items[:LISTED]
    if len(items) > LISTED:
        shown.append(i18n.plural("summary.more", len(items) - LISTED, language))
    return i18n.list_of(shown, language)


def key_figures(summary: LeadSummary, language: str) -> str:
    """The counts behind the narrative, one line each, names in the asker's language."""
    groups = (
        ("by_stage", summary.by_stage, lambda k: name("stages", k, language)),
        ("by_node", summary.by_node, lambda k: name("nodes", k, language)),
        ("by_sector", summary.by_sector, lambda k: name("sectors", k, language)),
        ("by_division", summary.by_division, lambda k: division_name(k, language)),
    )
    lines = [
        _line(key, _counted(counts, {k: named(k) for k in counts}, language), language)
        for key, counts, named in groups
    ]
    if summary.stalled:
        lines.append(_line("stalled", _listed(summary.stalled, language), language))
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
        lines.append(_line("unassigned", _listed(entries, language), language))
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
