"""Recognising lead requests in chat: "summarise this month's Tel Aviv leads", "本月特拉维夫线索
汇总", "what can we offer L-0042?". Words in the six working languages; node, sector and
division names through the glossary, so anything a user can write in a spreadsheet works here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.glossary import Glossary, normalize

_SUMMARY_WORDS = (
    "summary", "summarise", "summarize", "summarize", "overview", "digest", "pipeline",
    "汇总", "总结", "概况", "统计", "小结", "盘点",
    "zusammenfassung", "zusammenfassen", "fasse", "überblick",
    "résumé", "résume", "resume", "synthèse", "bilan",
    "요약", "현황", "정리",
    "סיכום", "סכם", "תמונת מצב",
)  # fmt: skip
_LEAD_WORDS = (
    "lead", "leads", "prospects", "线索", "项目", "리드", "לידים", "ליד", "projets", "projekte",
)  # fmt: skip
_PERIODS = {
    "week": ("this week", "past week", "last week", "weekly", "本周", "这周", "上周", "diese woche",
             "letzte woche", "cette semaine", "semaine dernière", "이번 주", "지난주", "השבוע"),
    "month": ("this month", "past month", "last month", "monthly", "本月", "这个月", "上个月",
              "diesen monat", "dieser monat", "letzten monat", "ce mois", "mois dernier",
              "이번 달", "지난달", "החודש"),
    "quarter": ("this quarter", "last quarter", "quarterly", "本季度", "这个季度", "上季度",
                "dieses quartal", "letztes quartal", "ce trimestre", "trimestre dernier",
                "이번 분기", "지난 분기", "הרבעון"),
}  # fmt: skip
_OFFER_WORDS = (
    "offer", "policies", "policy", "incentive", "政策", "可享", "扶持", "优惠", "能给",
    "förderung", "angebot", "anreize", "aides", "politiques", "offrir", "정책", "지원", "혜택",
    "הטבות", "מדיניות", "להציע",
)  # fmt: skip
_LEAD_ID = re.compile(r"\bL-\d{4,}\b", re.IGNORECASE)
_SINCE = re.compile(r"(?:since|from|seit|depuis|自|从)\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


@dataclass(frozen=True)
class SummaryRequest:
    period: str | None = None
    since: dt.date | None = None
    node: str | None = None
    sector: str | None = None
    division: str | None = None


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(normalize(w) in text for w in words)


def summary_request(
    text: str, glossary: Glossary, divisions: dict[str, str] | None = None
) -> SummaryRequest | None:
    """The filters of a lead-summary request, or None when the message is not one."""
    key = normalize(text)
    if not (_has(key, _SUMMARY_WORDS) and _has(key, _LEAD_WORDS)):
        return None
    period = next((p for p, words in _PERIODS.items() if _has(key, words)), None)
    since_match = _SINCE.search(text)
    since = dt.date.fromisoformat(since_match.group(1)) if since_match else None
    nodes = [e.id for e in glossary.mentioned(text, "nodes")]
    sectors = [e.id for e in glossary.mentioned(text, "sectors")]
    division = None
    for name, division_key in (divisions or {}).items():
        if len(name) >= 3 and name in key:
            division = division_key
            break
    return SummaryRequest(
        period=period,
        since=since,
        node=nodes[0] if len(nodes) == 1 else None,
        sector=sectors[0] if len(sectors) == 1 else None,
        division=division,
    )


def offer_request(text: str) -> str | None:
    """The lead id of "what can we offer L-0042?", or None."""
    match = _LEAD_ID.search(text)
    if match is None or not _has(normalize(text), _OFFER_WORDS):
        return None
    return match.group(0).upper()
