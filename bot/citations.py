"""Numbered passages for the prompt, and citations checked against them afterwards."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.messages import Citation
from retrieval.index import Hit

_MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")


@dataclass(frozen=True)
class Passage:
    number: int
    hit: Hit

    @property
    def title(self) -> str:
        return str(self.hit.metadata.get("title") or "")

    def expired_on(self, today: dt.date) -> str | None:
        ymd = self.hit.metadata.get("expires_ymd")
        if isinstance(ymd, int) and ymd < today.year * 10000 + today.month * 100 + today.day:
            return str(self.hit.metadata.get("expires"))
        return None


def select_passages(
    hits: Sequence[Hit], count_tokens: Callable[[str], int], budget: int
) -> list[Passage]:
    """Best-first passages that fit the context budget, numbered from 1."""
    passages: list[Passage] = []
    used = 0
    for hit in hits:
        cost = count_tokens(hit.text) + 20  # the source line and tags around it
        if used + cost > budget and passages:
            continue
        passages.append(Passage(len(passages) + 1, hit))
        used += cost
    return passages


def _escape(text: str) -> str:
    # A source must not be able to close the sources block and speak as the user.
    return re.sub(r"</?\s*(sources?)", lambda m: m.group(0).replace("<", "‹"), text, flags=re.I)


def sources_block(passages: Sequence[Passage]) -> str:
    parts = []
    for p in passages:
        meta = p.hit.metadata
        header = (
            f'<source id="{p.number}" title="{_escape(p.title)}" kind="{meta.get("kind")}" '
            f'date="{meta.get("published") or ""}">'
        )
        parts.append(f"{header}\n{_escape(p.hit.text)}\n</source>")
    return "\n".join(parts)


def finalize(
    text: str, passages: Sequence[Passage]
) -> tuple[str, tuple[Citation, ...], list[Passage]]:
    """Drop citation numbers that match no passage, renumber the rest in order of first use,
    and list only the passages actually cited."""
    by_number = {p.number: p for p in passages}
    order: list[int] = []

    def renumber(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match.group(1))]
        kept = []
        for n in numbers:
            if n in by_number:
                if n not in order:
                    order.append(n)
                kept.append(f"[{order.index(n) + 1}]")
        return "".join(dict.fromkeys(kept))

    cleaned = _MARKER.sub(renumber, text)
    cleaned = re.sub(r"[ \t]+([。，.,;；])", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    cited = [by_number[n] for n in order]
    citations = tuple(
        Citation(
            number=i,
            title=p.title,
            kind=str(p.hit.metadata.get("kind") or ""),
            date=p.hit.metadata.get("published"),  # type: ignore[arg-type]
            source=str(p.hit.metadata.get("source") or ""),
            visibility=str(p.hit.metadata.get("visibility") or ""),
            doc_id=str(p.hit.metadata.get("doc_id") or ""),
            expired=p.expired_on(dt.date.today()) is not None,
        )
        for i, p in enumerate(cited, start=1)
    )
    return cleaned, citations, cited
