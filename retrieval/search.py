"""Hybrid search: language-calibrated dense search (Chroma) and BM25 (bm25s), both filtered
by role and metadata, fused by reciprocal rank, then limited per document."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Literal

import numpy as np

from retrieval.calibration import LanguageCalibration, chunk_language
from retrieval.embeddings import Embedder
from retrieval.filters import SearchFilters, lexical_mask, search_where, where_all
from retrieval.index import ChromaIndex, Hit
from retrieval.lexical import LexicalIndex
from retrieval.rerank import Reranker

Mode = Literal["hybrid", "dense", "bm25", "naive"]
RRF_K = 60
# BM25 only matches text in the question's own language, so at equal weight it pulls
# same-language documents above the cross-lingual answer; see BENCHMARKS.md.
BM25_WEIGHT = 0.3
# Only BM25 matches close to its best one join the fusion: a weak lexical match (a shared
# "subsidy") is noise next to a cross-lingual dense match; a strong one (a name, a figure,
# an acronym such as PCT) is signal. Chosen on the shipped golden set, see BENCHMARKS.md.
BM25_GATE = 0.7


def rrf(rankings: list[list[str]], weights: list[float] | None = None) -> dict[str, float]:
    """Weighted reciprocal rank fusion: each list adds weight/(60 + rank) to the ids it ranks."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
    return scores


def _dense(
    index: ChromaIndex, vector: np.ndarray, fetch: int, where: dict, centroids: dict
) -> list[Hit]:  # type: ignore[type-arg]
    if not centroids:
        return index.query(vector, fetch, where)
    # Calibration shifts every score of a language by the same amount, so the best of each
    # language contain the best overall.
    hits: list[Hit] = []
    for language, centroid in centroids.items():
        baseline = float(vector @ centroid)
        for hit in index.query(vector, fetch, where_all(where, {"chunk_language": language})):
            hits.append(replace(hit, score=hit.similarity - baseline))
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits[:fetch]


def search(
    index: ChromaIndex,
    embedder: Embedder,
    query: str,
    *,
    role: str = "staff",
    k: int = 5,
    kind: str | None = None,
    node: str | None = None,
    filters: SearchFilters | None = None,
    calibration: LanguageCalibration | None = None,
    lexical: LexicalIndex | None = None,
    per_document: int | None = 2,
    mode: Mode = "hybrid",
    bm25_weight: float = BM25_WEIGHT,
    reranker: Reranker | None = None,
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
    filters = filters or SearchFilters()
    if kind or node:
        filters = replace(filters, kind=kind or filters.kind, node=node or filters.node)
    where = search_where(role, filters)
    vector = embedder.embed_query(query.strip())
    if mode == "naive":
        return index.query(vector, k, where)
    fetch = k if per_document is None and mode == "dense" else min(max(k * 3, 20), 200)
    centroids = calibration.centroids() if calibration is not None else {}

    dense = _dense(index, vector, fetch, where, centroids) if mode in ("hybrid", "dense") else []
    lexical_hits = (
        lexical.search(query, fetch, lexical_mask(role, filters))
        if lexical is not None and mode in ("hybrid", "bm25")
        else []
    )
    if mode == "hybrid" and lexical_hits:
        strongest = lexical_hits[0][1]
        lexical_hits = [(cid, s) for cid, s in lexical_hits if s >= BM25_GATE * strongest]
    if mode == "dense" or not lexical_hits and mode == "hybrid":
        ranked = reranker.rerank(query, dense) if reranker is not None else dense
        return _limit_per_document(ranked, per_document)[:k]

    by_id = {h.chunk_id: h for h in dense}
    missing = [cid for cid, _ in lexical_hits if cid not in by_id]
    for chunk_id, meta, text, chunk_vector in index.get(missing):
        similarity = float(chunk_vector @ vector)
        centroid = centroids.get(chunk_language(meta))
        score = similarity - float(vector @ centroid) if centroid is not None else similarity
        by_id[chunk_id] = Hit(chunk_id, text, score, meta, similarity)
    fused = rrf(
        [[h.chunk_id for h in dense], [cid for cid, _ in lexical_hits]],
        [1.0, bm25_weight] if dense else [1.0, 1.0],
    )
    ordered = [
        replace(by_id[cid], fused=fused[cid])
        for cid in sorted(fused, key=fused.__getitem__, reverse=True)
        if cid in by_id
    ]
    if reranker is not None:
        ordered = reranker.rerank(query, ordered)
    return _limit_per_document(ordered, per_document)[:k]


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
