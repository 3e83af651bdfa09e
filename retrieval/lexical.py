"""A persistent BM25 index (bm25s) over the same chunks as Chroma.

Role visibility and metadata filters become a weight mask inside bm25s: a chunk the role may
not see scores zero and can never be a candidate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.derived import ChunkColumns, DerivedIndex, read_json, write_json
from retrieval.tokenize import tokenize


@dataclass
class LexicalState:
    retriever: Any  # bm25s.BM25, or None for an empty collection
    ids: list[str]
    columns: ChunkColumns

    @property
    def size(self) -> int:
        return len(self.ids)


class LexicalIndex(DerivedIndex[LexicalState]):
    def _build(self) -> LexicalState:
        import bm25s

        ids: list[str] = []
        corpus: list[list[str]] = []
        metadatas: list[dict[str, Any]] = []
        for chunk_id, metadata, text in self.index.iter_documents():
            ids.append(chunk_id)
            corpus.append(
                tokenize(f"{metadata.get('title', '')} {metadata.get('heading', '')} {text}")
            )
            metadatas.append(metadata)
        retriever = None
        if ids:
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
        return LexicalState(retriever, ids, ChunkColumns.from_metadata(metadatas))

    def _save(self, state: LexicalState, folder: Path) -> None:
        if state.retriever is not None:
            state.retriever.save(str(folder / "bm25"))
        write_json(folder / "chunks.json", {"ids": state.ids, "columns": state.columns.to_json()})

    def _load(self, folder: Path) -> LexicalState:
        import bm25s

        data = read_json(folder / "chunks.json")
        retriever = bm25s.BM25.load(str(folder / "bm25")) if data["ids"] else None
        return LexicalState(retriever, data["ids"], ChunkColumns.from_json(data["columns"]))

    def search(self, query: str, k: int, allowed: Mapping[str, Any]) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best matches among the allowed chunks."""
        state = self.state()
        tokens = tokenize(query)
        if not tokens or state.retriever is None:
            return []
        weights = state.columns.mask(allowed).astype("float32")
        if not weights.any():
            return []
        documents, scores = state.retriever.retrieve(
            [tokens], k=min(k, state.size), show_progress=False, weight_mask=weights
        )
        return [
            (state.ids[int(i)], float(s))
            for i, s in zip(documents[0], scores[0], strict=True)
            if s > 0 and weights[int(i)] > 0
        ]
