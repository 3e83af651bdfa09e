"""Per-language score calibration for cross-lingual dense search.

With multilingual-e5 a query is closer to every passage in its own language than to any
passage in another, so an English question ranks unrelated English text above the Chinese
policy that answers it. The mean similarity of a query to all chunks of a language equals the
dot product with that language's centroid, so subtracting it removes the language offset and
leaves the topical part of the score. On the sample knowledge base this lifts cross-lingual
questions whose answer is in the top 3 documents from 12 to 16 of 18 (see BENCHMARKS.md).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import Column, Engine, Integer, LargeBinary, String, Table, delete, select

from knowledge.sql import metadata
from retrieval.index import ChromaIndex

language_stats = Table(
    "language_stats",
    metadata,
    Column("collection", String(512), primary_key=True),
    Column("language", String(32), primary_key=True),
    Column("chunks", Integer, nullable=False),
    Column("vector_sum", LargeBinary, nullable=False),
)

_TOTAL = "*"  # the row holding the whole collection: its count tells when stats are stale
# Small language groups are pulled toward the global mean, as if they had this many more
# average chunks; a language with five chunks would otherwise get a noisy baseline.
SHRINKAGE_CHUNKS = 10


def chunk_language(meta: dict) -> str:  # type: ignore[type-arg]
    """The language of the chunk's own text (a bilingual document has chunks of both)."""
    return str(meta.get("chunk_language") or meta.get("language") or "und")


class LanguageCalibration:
    def __init__(self, engine: Engine, index: ChromaIndex) -> None:
        self.engine = engine
        self.index = index
        self._cached: tuple[int, dict[str, np.ndarray]] | None = None

    def rebuild(self) -> dict[str, np.ndarray]:
        return self.refresh()

    def refresh(self) -> dict[str, np.ndarray]:
        """Recompute the per-language sums from the index and store them."""
        sums: dict[str, np.ndarray] = {}
        counts: dict[str, int] = defaultdict(int)
        for _, meta, vector in self.index.iter_embeddings():
            language = chunk_language(meta)
            if language not in sums:
                sums[language] = np.zeros(vector.shape[0], dtype=np.float64)
            sums[language] += vector
            counts[language] += 1
        total = sum(counts.values())
        with self.engine.begin() as conn:
            conn.execute(
                delete(language_stats).where(language_stats.c.collection == self.index.name)
            )
            rows = [
                {
                    "collection": self.index.name,
                    "language": lang,
                    "chunks": counts[lang],
                    "vector_sum": vec.astype(np.float64).tobytes(),
                }
                for lang, vec in sums.items()
            ]
            rows.append(
                {
                    "collection": self.index.name,
                    "language": _TOTAL,
                    "chunks": total,
                    "vector_sum": b"",
                }
            )
            conn.execute(language_stats.insert(), rows)
        centroids = self._centroids(sums, counts)
        self._cached = (total, centroids)
        return centroids

    @staticmethod
    def _centroids(sums: dict[str, np.ndarray], counts: dict[str, int]) -> dict[str, np.ndarray]:
        total = sum(counts.values())
        if not total:
            return {}
        overall = sum(sums.values()) / total
        return {
            lang: ((vec + SHRINKAGE_CHUNKS * overall) / (counts[lang] + SHRINKAGE_CHUNKS)).astype(
                np.float32
            )
            for lang, vec in sums.items()
        }

    def centroids(self) -> dict[str, np.ndarray]:
        """Per-language centroids, recomputed when the index changed since they were stored."""
        current = self.index.recent_count()
        if self._cached is not None and self._cached[0] == current:
            return self._cached[1]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    language_stats.c.language, language_stats.c.chunks, language_stats.c.vector_sum
                ).where(language_stats.c.collection == self.index.name)
            ).all()
        stored_total = next((n for lang, n, _ in rows if lang == _TOTAL), None)
        if stored_total != current:
            return self.refresh()
        sums = {
            lang: np.frombuffer(blob, dtype=np.float64) for lang, _, blob in rows if lang != _TOTAL
        }
        counts = {lang: n for lang, n, _ in rows if lang != _TOTAL}
        centroids = self._centroids(sums, counts)
        self._cached = (current, centroids)
        return centroids
