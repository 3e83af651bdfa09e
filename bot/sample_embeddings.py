"""Regenerate the shipped sample embeddings: `python -m bot.sample_embeddings`.

Runs a real first run (sample documents ingested, sample leads saved and their text views
indexed) on a throwaway data dir with an empty cache, then writes every passage vector it
embedded to knowledge/samples/embeddings.<model>.npz. It lives in bot/ because the lead
views' text depends on the lead store's division suggester, wired here; the file's format
and its use are in knowledge/sample_embeddings.py. tests/test_sample_embeddings.py fails
when a sample changed and this was not re-run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from bot.services import Services
from bot.settings import load_settings
from knowledge.sample_embeddings import shipped_path, write
from retrieval.embedding_cache import CachedEmbedder, embedding_cache
from retrieval.embeddings import make_embedder


def regenerate(target: Path | None = None) -> tuple[Path, int]:
    """Embed the samples from scratch; returns the file written and its passage count."""
    with tempfile.TemporaryDirectory(prefix="zbrain-samples-") as tmp:
        settings = load_settings(
            ZBRAIN_DATA_DIR=tmp,
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'zbrain.db'}",
            ZBRAIN_EMBEDDING_CACHE_URL=None,
            CHROMA_HOST=None,
        )
        services = Services(settings)
        # No seeds: every vector is computed now, none copied from the file being replaced.
        services.embedder = CachedEmbedder(
            make_embedder(settings), services.engine, settings.embed_batch_size
        )
        model_id = services.embedder.model_id
        services.ensure_samples()
        services.close()
        with services.engine.connect() as conn:
            rows = {
                digest: np.frombuffer(blob, dtype=np.float32)
                for digest, blob in conn.execute(
                    select(embedding_cache.c.text_sha256, embedding_cache.c.vector).where(
                        embedding_cache.c.model == model_id
                    )
                )
            }
        services.engine.dispose()
    path = target or shipped_path(model_id)
    write(path, model_id, rows)
    return path, len(rows)


def main() -> None:
    started = time.perf_counter()
    path, count = regenerate()
    print(
        f"{path}: {count} passages, {path.stat().st_size / 1024:.0f} KiB, "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
