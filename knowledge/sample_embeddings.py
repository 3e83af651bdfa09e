"""The sample knowledge base's passage embeddings, shipped with the package.

Embedding the samples took about two minutes on a fresh machine before its first answer.
The file holds rows of the embedding cache (model, sha256 of the embedded text, vector) for
every passage the first run embeds: the sample documents' chunks and the sample leads'
text views. A fresh cache takes a passage's vector from here when its hash is present, so an
edited sample is simply embedded again. Vectors are float16 (half the size; the golden
evaluation is unchanged, see BENCHMARKS.md) and renormalised when read.

Regenerate after editing a sample: `python -m bot.sample_embeddings` (it runs the real first
run, lead store and all, so it lives beside the services).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from knowledge.chunking import TokenCounter, chunk_text
from knowledge.ingest import SAMPLES_DIR, embedded_text
from knowledge.loaders import LoadError, is_supported, load_raw
from knowledge.metadata import build_document

SHIPPED_DIR = SAMPLES_DIR.parent


def shipped_path(model_id: str) -> Path:
    return SHIPPED_DIR / f"embeddings.{re.sub(r'[^A-Za-z0-9.]+', '-', model_id)}.npz"


@dataclass(frozen=True)
class ShippedEmbeddings:
    model_id: str
    hashes: tuple[str, ...]
    vectors: np.ndarray  # (passages, dim) float16, in the order of `hashes`

    def rows(self) -> dict[str, np.ndarray]:
        """sha256 → float32 unit vector, as the embedding cache stores them."""
        vectors = self.vectors.astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms == 0, 1, norms)
        return dict(zip(self.hashes, vectors, strict=True))


def write(path: Path, model_id: str, rows: Mapping[str, np.ndarray]) -> None:
    hashes = sorted(rows)
    vectors = np.vstack([rows[h] for h in hashes]).astype(np.float16)
    with path.open("wb") as file:
        np.savez_compressed(
            file,
            model=np.array(model_id),
            sha256=np.array([bytes.fromhex(h) for h in hashes], dtype="S32"),
            vectors=vectors,
        )


def read(path: Path) -> ShippedEmbeddings:
    with np.load(path, allow_pickle=False) as data:
        hashes = tuple(bytes(h).hex() for h in data["sha256"])
        return ShippedEmbeddings(str(data["model"]), hashes, data["vectors"])


@lru_cache(maxsize=4)
def shipped_rows(model_id: str) -> Mapping[str, np.ndarray]:
    """The shipped vectors of `model_id`, or none when no file is shipped for that model."""
    path = shipped_path(model_id)
    if not path.is_file():
        return {}
    shipped = read(path)
    return shipped.rows() if shipped.model_id == model_id else {}


def document_passages(count_tokens: TokenCounter) -> Iterator[str]:
    """What the first run embeds for the sample documents: each chunk as the model sees it
    (the index root changes chunk ids, never the embedded text)."""
    for file in sorted(SAMPLES_DIR.rglob("*")):
        hidden = any(part.startswith(".") for part in file.relative_to(SAMPLES_DIR).parts)
        if hidden or not file.is_file() or not is_supported(file):
            continue
        try:
            document = build_document(load_raw(file), path=file, root=SAMPLES_DIR)
        except LoadError:
            continue
        for chunk in chunk_text(document.text, count_tokens=count_tokens):
            yield embedded_text(str(document.metadata["title"]), chunk.heading, chunk.text)
