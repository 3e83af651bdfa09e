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


def public_url(source: object) -> str | None:
    """The source's link when it is one a reader can open; a file path is never shown."""
    text = str(source or "").strip()
    return text if re.match(r"^https?://\S+$", text, re.IGNORECASE) else None


def _document_of(passage: Passage) -> str:
    meta = passage.hit.metadata
    return f"{meta.get('root', '')}|{meta.get('doc_id') or passage.hit.chunk_id}"


def finalize(
    text: str, passages: Sequence[Passage]
) -> tuple[str, tuple[Citation, ...], list[Passage]]:
    """Drop citation numbers that match no passage, renumber the rest in order of first use,
    one number per document (its chunks share it), and list only the documents cited.

    Returns the text, the citations, and the first cited passage of each document."""
    by_number = {p.number: p for p in passages}
    documents: list[str] = []
    first_passage: dict[str, Passage] = {}

    def renumber(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*[,，、]\s*", match.group(1))]
        kept = []
        for n in numbers:
            if n in by_number:
                document = _document_of(by_number[n])
                if document not in documents:
                    documents.append(document)
                    first_passage[document] = by_number[n]
                kept.append(f"[{documents.index(document) + 1}]")
        return "".join(dict.fromkeys(kept))

    cleaned = _MARKER.sub(renumber, text)
    # "[1][1]" after two chunks of one document merged into one number.
    cleaned = re.sub(r"(\[\d+\])(?:\1)+", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]+([。，.,;；])", r"\1", cleaned)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).strip()
    cited = [first_passage[d] for d in documents]
    citations = tuple(
        Citation(
            number=i,
            title=p.title or str(p.hit.metadata.get("doc_id") or ""),
            kind=str(p.hit.metadata.get("kind") or ""),
            date=p.hit.metadata.get("published"),  # type: ignore[arg-type]
            visibility=str(p.hit.metadata.get("visibility") or ""),
            doc_id=str(p.hit.metadata.get("doc_id") or ""),
            expired=p.expired_on(dt.date.today()) is not None,
            url=public_url(p.hit.metadata.get("source")),
        )
        for i, p in enumerate(cited, start=1)
    )
    return cleaned, citations, cited
