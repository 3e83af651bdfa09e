"""Recognising lead requests in chat: "summarise this month's Tel Aviv leads", "本月特拉维夫线索
汇总", "what can we offer L-0042?", "show L-0042", "匹配 L-0042". Words in the six working
languages, matched as whole words (`bot.words`); node, sector and division names through the
glossary, so anything a user can write in a spreadsheet works here.

"Project" (项目, projet, Projekt) is deliberately not a lead word: people ask about project
funding and key projects far more often than they ask for the lead pipeline.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.words import Lexicon, Text, only
from knowledge.glossary import Glossary, normalize

SUMMARY_WORDS = Lexicon(
    (
        "summary", "summarise", "summarize", "overview", "digest", "pipeline", "figures",
        "汇总", "总结", "概况", "统计", "小结", "盘点",
        "zusammenfassung", "zusammenfassen", "fasse", "überblick", "übersicht",
        "résumé", "résume", "resume", "résumer", "synthèse", "bilan",
        "요약", "현황", "정리",
        "סיכום", "סכם", "תסכם", "לסכם", "תמונת מצב",
    )
)  # fmt: skip
LEAD_WORDS = Lexicon(
    (
        "lead", "leads", "线索", "pistes", "piste", "리드", "לידים",
    )
)  # fmt: skip
OFFER_WORDS = Lexicon(
    (
        "offer", "offers", "policies", "policy", "incentive", "incentives",
        "政策", "可享", "扶持", "优惠", "能给",
        "förderung", "förderungen", "angebot", "anreize", "bieten",
        "aides", "aide", "politiques", "offrir", "proposer",
        "정책", "지원", "혜택",
        "הטבות", "מדיניות", "להציע",
    )
)  # fmt: skip
# "show L-0042": nothing but these around the id.
SHOW_WORDS = Lexicon(
    (
        "show", "display", "open", "see", "me", "the", "lead", "details", "please",
        "线索", "查看", "看看", "显示", "详情", "打开", "给我", "我", "请",
        "zeige", "zeig", "mir", "den", "bitte", "anzeigen", "details",
        "montre", "montrer", "moi", "la", "le", "piste", "afficher", "détails",
        "리드", "보여줘", "보여 줘", "보여주세요", "보기", "상세", "조회",
        "הצג", "תראה", "לי", "את", "ליד", "פרטי",
    )
)  # fmt: skip
MATCH_WORDS = Lexicon(("match", "匹配", "zuordnen", "attribuer", "매칭", "התאמה", "התאם"))
# What may stand around "match L-0042" besides the lead words: "match L-0042 to a division".
_MATCH_FILLERS = Lexicon(
    (
        "to", "a", "division", "divisions", "please", "为", "给", "事业部", "请",
        "einem", "geschäftsbereich", "bitte", "une", "à", "division",
        "사업부", "לאגף",
    )
)  # fmt: skip
_MATCH_ALLOWED = MATCH_WORDS | _MATCH_FILLERS | SHOW_WORDS
_PERIODS = {
    "week": Lexicon(
        ("this week", "past week", "last week", "weekly", "week",
         "本周", "这周", "上周",
         "diese woche", "dieser woche", "letzte woche", "woche",
         "cette semaine", "semaine dernière", "semaine",
         "이번 주", "지난주", "השבוע")
    ),
    "month": Lexicon(
        ("this month", "past month", "last month", "monthly", "month",
         "本月", "这个月", "上个月",
         "diesen monat", "dieser monat", "dieses monats", "letzten monat", "letzten monats",
         "monat", "ce mois", "mois dernier", "mois",
         "이번 달", "지난달", "החודש")
    ),
    "quarter": Lexicon(
        ("this quarter", "last quarter", "quarterly", "quarter",
         "本季度", "这个季度", "上季度",
         "dieses quartal", "dieses quartals", "letztes quartal", "quartal",
         "ce trimestre", "trimestre dernier", "trimestre",
         "이번 분기", "지난 분기", "הרבעון")
    ),
}  # fmt: skip
# Not after a Latin letter or digit: "线索L-0042" names L-0042, "XL-0042" does not.
LEAD_ID = re.compile(r"(?<![0-9A-Za-z])L-(\d{4,})(?!\d)", re.IGNORECASE)
_SINCE = re.compile(r"(?:since|from|seit|depuis|自|从)\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)


@dataclass(frozen=True)
class SummaryRequest:
    period: str | None = None
    since: dt.date | None = None
    node: str | None = None
    sector: str | None = None
    division: str | None = None


def lead_id_in(text: str) -> str | None:
    """The first lead id the text names, written as stored ("l-42" → "L-0042")."""
    match = LEAD_ID.search(text)
    return f"L-{int(match.group(1)):04d}" if match else None


def _without_ids(text: str) -> Text:
    return Text(LEAD_ID.sub(" ", text))


def summary_filters(
    text: str, glossary: Glossary, divisions: dict[str, str] | None = None
) -> SummaryRequest:
    """The filters a text names (period, start day, node, sector, division), in any language:
    the argument of a summary command, or the rest of a summary request."""
    words = Text(text)
    period = next((p for p, lexicon in _PERIODS.items() if lexicon.found_in(words)), None)
    since_match = _SINCE.search(text)
    since = dt.date.fromisoformat(since_match.group(1)) if since_match else None
    nodes = [e.id for e in glossary.mentioned(text, "nodes")]
    sectors = [e.id for e in glossary.mentioned(text, "sectors")]
    division = None
    names = {normalize(name): key for name, key in (divisions or {}).items() if len(name) >= 2}
    if names:
        found = Lexicon(names).first(words)
        division = names.get(found) if found else None
    return SummaryRequest(
        period=period,
        since=since,
        node=nodes[0] if len(nodes) == 1 else None,
        sector=sectors[0] if len(sectors) == 1 else None,
        division=division,
    )


def summary_request(
    text: str, glossary: Glossary, divisions: dict[str, str] | None = None
) -> SummaryRequest | None:
    """The filters of a lead-summary request, or None when the message is not one: it needs
    a summary word and a lead word, and names no single lead."""
    words = Text(text)
    if LEAD_ID.search(text) or not (SUMMARY_WORDS.found_in(words) and LEAD_WORDS.found_in(words)):
        return None
    return summary_filters(text, glossary, divisions)


def offer_request(text: str) -> str | None:
    """The lead id of "what can we offer L-0042?", or None."""
    lead_id = lead_id_in(text)
    if lead_id is None or not OFFER_WORDS.found_in(_without_ids(text)):
        return None
    return lead_id


def lead_request(text: str) -> str | None:
    """The lead id of "show L-0042", "lead L-0042", "线索 L-0042" (or the bare id), or None:
    a question that merely names a lead ("who is the contact of L-0042?") is not one."""
    lead_id = lead_id_in(text)
    if lead_id is None or not only(_without_ids(text), SHOW_WORDS):
        return None
    return lead_id


def match_request(text: str) -> str | None:
    """The lead id of "match L-0042", "为L-0042匹配事业部", or None."""
    lead_id = lead_id_in(text)
    if lead_id is None:
        return None
    rest = _without_ids(text)
    if not MATCH_WORDS.found_in(rest):
        return None
    return lead_id if only(rest, _MATCH_ALLOWED) else None
