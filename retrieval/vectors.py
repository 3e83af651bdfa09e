"""Exact dense search over an in-memory float32 copy of the collection's vectors.

Chroma's filtered query is linear in the collection size and slow with it (about 0.6 s at 100k
chunks on this machine for a role filter, see BENCHMARKS.md), while every question carries a
role filter. So dense search scores a matrix copy instead; Chroma stays the store of record.
Rows are ordered by visibility (public, partner, internal, restricted) and each role reads a
prefix of that order, so a role's search multiplies only the rows it may read: a chunk it may
not see is never scored, let alone a candidate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.model import Visibility
from retrieval.derived import ChunkColumns, DerivedIndex, read_json, write_json

_ORDER = {level.value: rank for rank, level in enumerate(Visibility)}


@dataclass
class VectorState:
    ids: list[str]
    vectors: np.ndarray  # (n, dim) float32, rows sorted by visibility
    columns: ChunkColumns
    row_of: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.row_of = {chunk_id: row for row, chunk_id in enumerate(self.ids)}

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


class VectorMatrix(DerivedIndex[VectorState]):
    def _build(self) -> VectorState:
        rows = sorted(
            self.index.iter_embeddings(),
            key=lambda r: _ORDER.get(str(r[1].get("visibility")), len(_ORDER)),
        )
        dim = self.index.embedder.dim
        vectors = np.zeros((len(rows), dim), dtype=np.float32)
        for i, (_, _, vector) in enumerate(rows):
            vectors[i] = vector
        return VectorState(
            [r[0] for r in rows], vectors, ChunkColumns.from_metadata(r[1] for r in rows)
        )

    def _save(self, state: VectorState, folder: Path) -> None:
        np.save(folder / "vectors.npy", state.vectors)
        write_json(folder / "chunks.json", {"ids": state.ids, "columns": state.columns.to_json()})

    def _load(self, folder: Path) -> VectorState:
        data = read_json(folder / "chunks.json")
        vectors = np.load(folder / "vectors.npy")
        if vectors.shape[0] != len(data["ids"]):
            raise ValueError("vector matrix and chunk list differ in length")
        return VectorState(data["ids"], vectors, ChunkColumns.from_json(data["columns"]))

    def search(
        self,
        vector: np.ndarray,
        k: int,
        allowed: Mapping[str, Any],
        centroids: Mapping[str, np.ndarray] | None = None,
    ) -> list[DenseMatch]:
        """The k best allowed chunks by calibrated score. `allowed` is the same condition map
        as the BM25 mask and must name the visibility levels."""
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
        score[~keep] = -np.inf
        candidates = int(keep.sum())
        if candidates == 0:
            return []
        take = min(k, candidates)
        top = np.argpartition(-score, take - 1)[:take]
        top = top[np.argsort(-score[top], kind="stable")]
        return [self._match(state, int(row), similarity, score) for row in top]

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
            DenseMatch(state.ids[row], float(similarity[i]), float(score[i]), _document(state, row))
            for i, row in enumerate(rows)
        ]

    @staticmethod
    def _match(
        state: VectorState, row: int, similarity: np.ndarray, score: np.ndarray
    ) -> DenseMatch:
        return DenseMatch(
            state.ids[row], float(similarity[row]), float(score[row]), _document(state, row)
        )


def _language(state: VectorState, row: int) -> str:
    return str(state.columns.category("chunk_language", row))


def _document(state: VectorState, row: int) -> tuple[str, str]:
    return (
        str(state.columns.category("root", row)),
        str(state.columns.category("doc_id", row)),
    )
