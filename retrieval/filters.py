"""Filters for both retrievers: the asker's role first, then metadata the user chose.

The same conditions become a mask over the vector matrix and BM25 (applied before scoring, so
neither retriever ever sees a chunk the role may not read) and a Chroma `where` clause for the
naive baseline and for reading chunks back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from knowledge.model import Kind, Role, parse_choice, visible_to


def where_all(*conditions: dict[str, Any] | None) -> dict[str, Any] | None:
    """Combine conditions with $and (Chroma rejects an $and of fewer than two)."""
    present = [c for c in conditions if c]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


def _ymd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


@dataclass(frozen=True)
class SearchFilters:
    kind: str | None = None
    node: str | None = None
    sector: str | None = None
    language: str | None = None
    since: dt.date | None = None  # published on or after
    until: dt.date | None = None  # published on or before
    include_expired: bool = False  # policies (or any document) past their `expires` date
    today: dt.date | None = None

    def normalized(self) -> SearchFilters:
        from knowledge.metadata import slug

        return SearchFilters(
            kind=parse_choice(Kind, self.kind, "kind").value if self.kind else None,
            node=slug(self.node) if self.node else None,
            sector=slug(self.sector) if self.sector else None,
            language=self.language.strip().lower() if self.language else None,
            since=self.since,
            until=self.until,
            include_expired=self.include_expired,
            today=self.today,
        )


def role_levels(role: Role | str) -> list[str]:
    return [level.value for level in visible_to(parse_choice(Role, str(role), "role"))]


def role_condition(role: Role | str) -> dict[str, Any]:
    """The visibility levels the role may read. Applied inside the vector search, so a chunk
    the role may not see never becomes a candidate."""
    return {"visibility": {"$in": role_levels(role)}}


def search_where(role: Role | str, filters: SearchFilters | None = None) -> dict[str, Any]:
    f = (filters or SearchFilters()).normalized()
    conditions: list[dict[str, Any] | None] = [role_condition(role)]
    if f.kind:
        conditions.append({"kind": f.kind})
    if f.node:
        conditions.append({"node": f.node})
    if f.language:
        conditions.append({"language": f.language})
    if f.sector:
        conditions.append({"sectors": {"$contains": f.sector}})
    if f.since:
        conditions.append({"published_ymd": {"$gte": _ymd(f.since)}})
    if f.until:
        conditions.append({"published_ymd": {"$lte": _ymd(f.until)}})
    if not f.include_expired:
        conditions.append({"expires_ymd": {"$gte": _ymd(f.today or dt.date.today())}})
    where = where_all(*conditions)
    assert where is not None
    return where


def filter_conditions(role: Role | str, filters: SearchFilters | None = None) -> dict[str, Any]:
    """The same conditions in the form ChunkColumns.mask takes, for the vector matrix and
    BM25."""
    f = (filters or SearchFilters()).normalized()
    allowed: dict[str, Any] = {"visibility": set(role_levels(role))}
    for name in ("kind", "node", "language"):
        if getattr(f, name):
            allowed[name] = {getattr(f, name)}
    if f.sector:
        allowed["sectors"] = {f.sector}
    if f.since:
        allowed["published_ymd"] = ("min", _ymd(f.since))
    if f.until:
        allowed["published_ymd_max"] = ("max", _ymd(f.until))
    if not f.include_expired:
        allowed["expires_ymd"] = ("min", _ymd(f.today or dt.date.today()))
    return allowed


_HISTORY_WORDS = (
    "历史",
    "以前",
    "过去",
    "还有效",
    "仍有效",
    "是否有效",
    "still valid",
    "still in force",
    "noch gültig",
    "아직 유효",
    "encore valable",
    "toujours valable",
    "en vigueur",
    "noch in kraft",
    "עדיין בתוקף",
    "旧版",
    "原来",
    "曾经",
    "失效",
    "过期",
    "废止",
    "当时",
    "往年",
    "history",
    "historical",
    "previous",
    "former",
    "old version",
    "expired",
    "used to",
    "back in",
    "früher",
    "damals",
    "ehemalig",
    "abgelaufen",
    "alte fassung",
    "이전",
    "과거",
    "예전",
    "만료",
    "היסטור",
    "בעבר",
    "קודם",
    "historique",
    "ancien",
    "précédent",
    "autrefois",
    "expiré",
)


def asks_about_history(question: str, today: dt.date | None = None) -> bool:
    """Whether a question is about the past, so expired documents may answer it."""
    import re

    lowered = question.lower()
    if any(word in lowered for word in _HISTORY_WORDS):
        return True
    year = (today or dt.date.today()).year
    return any(int(y) < year for y in re.findall(r"(?<!\d)(19\d{2}|20\d{2})(?!\d)", question))
