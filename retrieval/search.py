"""Dense search over the index, filtered by role and metadata, calibrated across languages."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from retrieval.calibration import LanguageCalibration
from retrieval.embeddings import Embedder
from retrieval.filters import search_where, where_all
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
    calibration: LanguageCalibration | None = None,
    per_document: int | None = 2,
) -> list[Hit]:
    """The k chunks most relevant to the query that the role may see, best first, with at
    most `per_document` chunks of any one document (None: no limit) so that one long file
    does not crowd out the second relevant one."""
    if not query.strip():
        raise ValueError("the query is empty")
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    if per_document is not None and per_document < 1:
        raise ValueError(f"per-document limit must be at least 1 (got {per_document})")
    where = search_where(role, kind=kind, node=node)
    vector = embedder.embed_query(query.strip())
    fetch = k if per_document is None else min(max(k * 3, 10), 200)
    centroids = calibration.centroids() if calibration is not None else {}
    if not centroids:
        hits = index.query(vector, fetch, where)
    else:
        # Calibration shifts every score of a language by the same amount, so the best of
        # each language contain the best overall.
        hits = []
        for language, centroid in centroids.items():
            baseline = float(vector @ centroid)
            for hit in index.query(vector, fetch, where_all(where, {"language": language})):
                hits.append(replace(hit, score=hit.similarity - baseline))
        hits.sort(key=lambda h: h.score, reverse=True)
    return _limit_per_document(hits, per_document)[:k]


def _limit_per_document(hits: list[Hit], per_document: int | None) -> list[Hit]:
    if per_document is None:
        return hits
    taken: Counter[str] = Counter()
    kept = []
    for hit in hits:
        key = f"{hit.metadata.get('root')}|{hit.metadata.get('doc_id')}"
        if taken[key] < per_document:
            taken[key] += 1
            kept.append(hit)
    return kept
