"""The SQL stores on PostgreSQL: the embedding cache and conversation history round-trip."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from sqlalchemy import Engine, select

from bot.conversations import ConversationStore, Turn, conversation_turns
from knowledge.sql import make_engine
from retrieval.embedding_cache import CachedEmbedder


class CountingEmbedder:
    """Deterministic vectors from the text's hash; remembers what it was asked to embed."""

    model_id = "fake/hash-8"
    dim = 8

    def __init__(self) -> None:
        self.passages: list[str] = []
        self.queries: list[str] = []

    def _vector(self, text: str, salt: str) -> np.ndarray:
        digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
        return np.frombuffer(digest[: self.dim * 4], dtype=np.uint32).astype(np.float32) / 2**32

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages.extend(texts)
        return np.vstack([self._vector(t, "passage") for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self._vector(text, "query")

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@pytest.fixture
def pg_engine(postgres_schema_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_schema_url)
    yield engine
    engine.dispose()


def test_embedding_cache_round_trip(pg_engine: Engine) -> None:
    inner = CountingEmbedder()
    texts = ["郑州高新区", "hydrogen subsidy", "郑州高新区", "Förderung"]
    first = CachedEmbedder(inner, pg_engine, batch_size=2).embed_passages(texts)
    assert inner.passages == ["郑州高新区", "hydrogen subsidy", "Förderung"]

    # A new wrapper (as a new process would make) finds everything in the database.
    again = CachedEmbedder(inner, pg_engine)
    second = again.embed_passages(list(reversed(texts)))
    assert again.embedded == 0 and again.cache_hits == 4
    np.testing.assert_array_equal(second, first[::-1])
    assert second.dtype == np.float32 and second.shape == (4, inner.dim)

    query = again.embed_query("which subsidies?")
    np.testing.assert_array_equal(again.embed_query("which subsidies?"), query)
    assert inner.queries == ["which subsidies?"]
    # Storing a vector another writer already stored is not an error (ON CONFLICT DO NOTHING).
    again._store(inner.model_id, {"0" * 64: first[0], "1" * 64: first[1]})
    again._store(inner.model_id, {"0" * 64: first[0]})


def test_conversation_history_round_trip(pg_engine: Engine) -> None:
    store = ConversationStore(pg_engine)
    for n in range(4):
        store.add("slack", "thread-1", "u1", "user", f"question {n}")
        store.add("slack", "thread-1", "bot", "assistant", f"答案 {n}")
    store.add("telegram", "thread-1", "u2", "user", "another platform, same id")

    assert store.last("slack", "thread-1", 3) == [
        Turn("assistant", "答案 2"),
        Turn("user", "question 3"),
        Turn("assistant", "答案 3"),
    ]
    assert store.last("telegram", "thread-1", 10) == [Turn("user", "another platform, same id")]
    assert store.last("slack", "missing", 5) == []
    with pg_engine.connect() as conn:
        stamp = conn.execute(select(conversation_turns.c.created_at).limit(1)).scalar_one()
    assert stamp.tzinfo is not None
