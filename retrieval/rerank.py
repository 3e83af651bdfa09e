"""An optional re-ranking stage after fusion (off by default).

Anything with `rerank(query, hits) -> hits` fits, e.g. a cross-encoder behind an HTTP
endpoint. The one shipped needs no model: it lifts candidates that contain more of the
question's key terms and numbers, for corpora where exact figures and names matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from retrieval.index import Hit
from retrieval.terms import overlap


class Reranker(Protocol):
    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


class TermOverlapReranker:
    def __init__(self, weight: float = 0.5) -> None:
        self.weight = weight

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        if not hits:
            return []
        # Keep the fused order as the base signal: position 0 → 1.0, last → ~0.
        n = len(hits)
        scored = []
        for position, hit in enumerate(hits):
            base = 1.0 - position / n
            text = f"{hit.metadata.get('title', '')} {hit.text}"
            scored.append((base + self.weight * overlap(query, text), position, hit))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [hit for _, _, hit in scored]


def make_reranker(name: str) -> Reranker | None:
    if name == "none":
        return None
    if name == "terms":
        return TermOverlapReranker()
    raise ValueError(f"ZBRAIN_RERANKER {name!r} is not one of: none, terms")
