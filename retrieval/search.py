"""Dense search over the index, filtered by role and metadata."""

from __future__ import annotations

from retrieval.embeddings import Embedder
from retrieval.filters import search_where
from retrieval.index import ChromaIndex, Hit


def search(
    index: ChromaIndex,
    embedder: Embedder,
    query: str,
    *,
    role: str = "staff",
    k: int = 5,
    kind: str | None = None,
    node: str | None = None,
) -> list[Hit]:
    """The k chunks most similar to the query that the role may see, best first."""
    if not query.strip():
        raise ValueError("the query is empty")
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    where = search_where(role, kind=kind, node=node)
    return index.query(embedder.embed_query(query.strip()), k, where)
