"""A persistent BM25 index (bm25s) over the same chunks as Chroma.

It is rebuilt from Chroma after every ingest that changed something, and again whenever its
chunk count no longer matches Chroma's (say, after an interrupted ingest), so the two never
drift. Role visibility and metadata filters become a weight mask inside bm25s: a chunk the
role may not see scores zero and can never be a candidate.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.index import ChromaIndex
from retrieval.tokenize import tokenize

_META_FIELDS = (
    "visibility",
    "kind",
    "node",
    "language",
    "doc_id",
    "root",
    "expires_ymd",
    "published_ymd",
)


class LexicalIndex:
    def __init__(self, folder: Path, index: ChromaIndex) -> None:
        self.folder = folder / index.name
        self.index = index
        self._lock = threading.Lock()
        self._retriever: Any = None
        self._ids: list[str] = []
        self._meta: dict[str, list[Any]] = {}
        self._sectors: list[list[str]] = []

    def rebuild(self) -> None:
        import bm25s

        ids: list[str] = []
        corpus: list[list[str]] = []
        meta: dict[str, list[Any]] = {name: [] for name in _META_FIELDS}
        sectors: list[list[str]] = []
        for chunk_id, metadata, text in self.index.iter_documents():
            ids.append(chunk_id)
            corpus.append(
                tokenize(f"{metadata.get('title', '')} {metadata.get('heading', '')} {text}")
            )
            for name in _META_FIELDS:
                meta[name].append(metadata.get(name))
            sectors.append(list(metadata.get("sectors") or []))
        retriever = bm25s.BM25()
        if ids:
            retriever.index(corpus, show_progress=False)
        staging = self.folder.with_name(self.folder.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        if ids:
            retriever.save(str(staging / "bm25"))
        (staging / "chunks.json").write_text(
            json.dumps({"ids": ids, "meta": meta, "sectors": sectors}, ensure_ascii=False),
            encoding="utf-8",
        )
        # Swap in whole so a reader never sees half an index.
        shutil.rmtree(self.folder, ignore_errors=True)
        staging.rename(self.folder)
        with self._lock:
            self._retriever, self._ids, self._meta, self._sectors = (
                retriever if ids else None,
                ids,
                meta,
                sectors,
            )

    def _ensure(self) -> None:
        current = self.index.count()
        with self._lock:
            if self._ids and len(self._ids) == current:
                return
        stored = self.folder / "chunks.json"
        if stored.exists():
            data = json.loads(stored.read_text(encoding="utf-8"))
            if len(data["ids"]) == current and (current == 0 or (self.folder / "bm25").exists()):
                import bm25s

                retriever = bm25s.BM25.load(str(self.folder / "bm25")) if current else None
                with self._lock:
                    self._retriever, self._ids = retriever, data["ids"]
                    self._meta, self._sectors = data["meta"], data["sectors"]
                return
        self.rebuild()

    def mask(self, allowed: Mapping[str, Any]) -> np.ndarray:
        """1.0 for chunks matching every condition, else 0.0. Conditions: field → set of
        values, or ("min", n) / ("max", n) for the *_ymd integer fields; "sectors" → set."""
        n = len(self._ids)
        keep = np.ones(n, dtype=bool)
        for field, condition in allowed.items():
            if field == "sectors":
                keep &= np.array([bool(condition & set(s)) for s in self._sectors], dtype=bool)
            elif isinstance(condition, tuple):
                bound, value = condition
                values = self._meta[field.removesuffix("_max")]
                column = np.array([v if v is not None else -1 for v in values], dtype=np.int64)
                keep &= column >= value if bound == "min" else (column <= value) & (column >= 0)
            else:
                keep &= np.array([v in condition for v in self._meta[field]], dtype=bool)
        return keep.astype(np.float32)

    def search(self, query: str, k: int, allowed: Mapping[str, Any]) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best matches among the allowed chunks."""
        self._ensure()
        tokens = tokenize(query)
        if not tokens or self._retriever is None:
            return []
        weights = self.mask(allowed)
        candidates = int(weights.sum())
        if candidates == 0:
            return []
        documents, scores = self._retriever.retrieve(
            [tokens], k=min(k, len(self._ids)), show_progress=False, weight_mask=weights
        )
        return [
            (self._ids[int(i)], float(s))
            for i, s in zip(documents[0], scores[0], strict=True)
            if s > 0 and weights[int(i)] > 0
        ]
