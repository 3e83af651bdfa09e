"""An SQL cache of embeddings keyed by (model, sha256 of text): unchanged text is never
embedded twice, whichever document or ingest run it comes from."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from sqlalchemy import Column, Engine, Integer, LargeBinary, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from knowledge.sql import metadata
from retrieval.embeddings import Embedder

embedding_cache = Table(
    "embedding_cache",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("text_sha256", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

_LOOKUP_BATCH = 400
_TOKEN_COUNTS_KEPT = 20_000

# Vectors known before anything is embedded (the shipped sample embeddings), by model id.
Seeds = Callable[[str], Mapping[str, np.ndarray]]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Wraps an Embedder; counts what it really embedded so reports can show cache hits.

    `seeds`, asked on the first cache miss, gives vectors for this model by text hash: a
    passage found there is copied into the cache instead of being embedded."""

    def __init__(
        self, inner: Embedder, engine: Engine, batch_size: int = 32, seeds: Seeds | None = None
    ) -> None:
        self.inner = inner
        self.engine = engine
        self.batch_size = batch_size
        self.model_id = inner.model_id
        self.seeds = seeds
        self.embedded = 0
        self.cache_hits = 0
        self.seeded = 0
        # Token counts of passages, which every answer re-counts to fit its budget: the
        # tokenizer holds the GIL (and waits for the model while another thread embeds), so
        # counting the same chunks again stalls every other conversation.
        self._token_counts: dict[str, int] = {}

    @property
    def dim(self) -> int:
        return self.inner.dim

    def count_tokens(self, text: str) -> int:
        count = self._token_counts.get(text)
        if count is None:
            count = self.inner.count_tokens(text)
            if len(self._token_counts) >= _TOKEN_COUNTS_KEPT:
                self._token_counts.clear()  # a crude bound; the working set refills at once
            self._token_counts[text] = count
        return count

    def _lookup(self, key: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(hashes), _LOOKUP_BATCH):
                batch = list(hashes[start : start + _LOOKUP_BATCH])
                rows = conn.execute(
                    select(embedding_cache.c.text_sha256, embedding_cache.c.vector).where(
                        embedding_cache.c.model == key, embedding_cache.c.text_sha256.in_(batch)
                    )
                )
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def _store(self, key: str, rows: dict[str, np.ndarray]) -> None:
        if not rows:
            return
        values = [
            {
                "model": key,
                "text_sha256": digest,
                "dim": int(vec.shape[0]),
                "vector": vec.astype(np.float32).tobytes(),
            }
            for digest, vec in rows.items()
        ]
        dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            if dialect == "sqlite":
                conn.execute(sqlite.insert(embedding_cache).on_conflict_do_nothing(), values)
            elif dialect == "postgresql":
                conn.execute(postgresql.insert(embedding_cache).on_conflict_do_nothing(), values)
            else:
                existing = self._lookup(key, list(rows))
                fresh = [v for v in values if v["text_sha256"] not in existing]
                if fresh:
                    conn.execute(embedding_cache.insert(), fresh)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        key = self.model_id
        hashes = [text_hash(t) for t in texts]
        cached = self._lookup(key, sorted(set(hashes)))
        missing = list(dict.fromkeys(h for h in hashes if h not in cached))
        if missing and self.seeds is not None:
            missing = self._seed(key, missing, cached)
        by_hash = {h: t for h, t in zip(hashes, texts, strict=True)}
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self.inner.embed_passages([by_hash[h] for h in batch])
            fresh = dict(zip(batch, vectors, strict=True))
            # Stored per batch so an interrupted run keeps what it already paid for.
            self._store(key, fresh)
            cached.update(fresh)
            self.embedded += len(batch)
        self.cache_hits += len(hashes) - len(missing)
        if not hashes:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([cached[h] for h in hashes])

    def _seed(self, key: str, missing: list[str], cached: dict[str, np.ndarray]) -> list[str]:
        """Take what the seeds know of `missing` into the cache; return what is left."""
        assert self.seeds is not None
        known = self.seeds(key)
        found = {h: known[h] for h in missing if h in known}
        self._store(key, found)
        cached.update(found)
        self.seeded += len(found)
        return [h for h in missing if h not in found]

    def embed_query(self, text: str) -> np.ndarray:
        key = f"{self.model_id}#query"
        digest = text_hash(text)
        hit = self._lookup(key, [digest]).get(digest)
        if hit is not None:
            return hit
        vector = self.inner.embed_query(text)
        self._store(key, {digest: vector})
        return vector
