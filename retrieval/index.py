"""The Chroma index: one collection per embedding model, embedded or client/server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.embeddings import Embedder


class IndexSettings(Protocol):
    """What opening the index needs of the settings (bot.settings.Settings has it): declared
    here so that retrieval imports nothing from bot."""

    @property
    def chroma_host(self) -> str | None: ...
    @property
    def chroma_port(self) -> int: ...
    @property
    def chroma_path(self) -> Path: ...
    @property
    def chroma_collection(self) -> str | None: ...


class IndexUnavailableError(Exception):
    """The index cannot be opened or used; the message says what to do."""


class IndexMismatchError(IndexUnavailableError):
    """The stored collection was built with another embedding model or dimension."""


_PAGE = 2000
COUNT_MAX_AGE = 2.0  # seconds; see ChromaIndex.recent_count


def collection_name(model_id: str) -> str:
    """A Chroma-legal collection name derived from the model, so models never mix."""
    name = "zbrain-" + re.sub(r"[^A-Za-z0-9._-]+", "-", model_id).strip("-._")
    return name[:500]


class ZbrainEmbeddingFunction:
    """Handed to Chroma so it never falls back to its default model (which downloads
    weights and fails offline). We always pass vectors ourselves; this only answers if
    Chroma asks."""

    def __init__(self, embedder: Embedder | None, model_id: str | None = None) -> None:
        self._embedder = embedder
        self._model_id = embedder.model_id if embedder is not None else model_id

    def _require(self) -> Embedder:
        if self._embedder is None:
            raise IndexUnavailableError(
                f"this collection holds {self._model_id!r} vectors; open it through zbrain"
            )
        return self._embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - Chroma's name
        return list(self._require().embed_passages(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return [self._require().embed_query(text) for text in input]

    @staticmethod
    def name() -> str:
        return "zbrain"

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self._model_id}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ZbrainEmbeddingFunction:
        # Chroma rebuilds the function when it reads a collection; the vectors are always
        # supplied by zbrain, so a placeholder that refuses to embed is enough.
        return ZbrainEmbeddingFunction(None, config.get("model_id"))

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `similarity` is the cosine similarity; `score` is what results are
    ranked by (the similarity less the query's language baseline when calibrated)."""

    chunk_id: str
    text: str
    score: float
    metadata: Mapping[str, Any]
    similarity: float = 0.0
    fused: float = 0.0  # reciprocal-rank-fusion score when several rankings were combined
    # What the results are ordered by (fused, or the combined dense score): it falls with rank.
    rank_score: float = 0.0


def _register_with_chroma() -> None:
    from chromadb.utils.embedding_functions import (
        known_embedding_functions,
        register_embedding_function,
    )

    if ZbrainEmbeddingFunction.name() not in known_embedding_functions:
        register_embedding_function(ZbrainEmbeddingFunction)


def make_client(settings: IndexSettings):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    _register_with_chroma()
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
        except Exception as exc:  # the client checks the server on construction
            raise IndexUnavailableError(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                f"(CHROMA_HOST/CHROMA_PORT): {exc}"
            ) from None
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)


class ChromaIndex:
    def __init__(self, client, embedder: Embedder, name: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.embedder = embedder
        self.name = name or collection_name(embedder.model_id)
        self._counted: tuple[float, int] | None = None
        self.collection = self._open()

    def _open(self):  # type: ignore[no-untyped-def]
        model_id = self.embedder.model_id
        dim = self.embedder.dim
        existing = {
            c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()
        }
        function = ZbrainEmbeddingFunction(self.embedder)
        if self.name in existing:
            try:
                collection = self.client.get_collection(self.name, embedding_function=function)
            except ValueError as exc:
                raise IndexMismatchError(
                    f"collection {self.name!r} was not built by zbrain embeddings: {exc}"
                ) from None
            meta = collection.metadata or {}
            stored_model, stored_dim = meta.get("zbrain_embedding_model"), meta.get("zbrain_dim")
            if stored_model != model_id or (stored_dim is not None and int(stored_dim) != dim):
                raise IndexMismatchError(
                    f"collection {self.name!r} was built with embedding model {stored_model!r} "
                    f"(dimension {stored_dim}), but the configured model is {model_id!r} "
                    f"(dimension {dim}). Set ZBRAIN_EMBEDDINGS / ZBRAIN_EMBEDDING_MODEL back, "
                    "or choose another ZBRAIN_COLLECTION (or data dir) and re-ingest."
                )
            return collection
        return self.client.create_collection(
            self.name,
            embedding_function=function,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"zbrain_embedding_model": model_id, "zbrain_dim": dim},
        )

    def count(self) -> int:
        return int(self.collection.count())

    def recent_count(self) -> int:
        """The chunk count, read at most once per COUNT_MAX_AGE seconds: counting takes ~7 ms
        at 100k chunks, and every search checks its copies against it. This process's own
        writes refresh it at once; another process's are seen within the interval (and its
        rebuilds at once, by their stamp)."""
        now = time.monotonic()
        if self._counted is None or now - self._counted[0] > COUNT_MAX_AGE:
            self._counted = (now, self.count())
        return self._counted[1]

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]],
    ) -> None:
        self._counted = None
        if ids:
            self.collection.upsert(
                ids=list(ids),
                embeddings=embeddings,
                documents=list(documents),
                metadatas=[dict(m) for m in metadatas],
            )

    def delete(self, ids: Sequence[str]) -> None:
        self._counted = None
        for start in range(0, len(ids), _PAGE):
            self.collection.delete(ids=list(ids[start : start + _PAGE]))

    def _pages(self, include: list[str], where: Mapping[str, Any] | None = None) -> Iterator[dict]:  # type: ignore[type-arg]
        """Every chunk matching `where`, a page at a time, so large indexes fit in memory."""
        offset = 0
        while True:
            page = self.collection.get(
                where=dict(where) if where else None,
                include=include,
                limit=_PAGE,
                offset=offset,  # type: ignore[arg-type]
            )
            yield page
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE

    def iter_metadata(
        self, where: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(id, metadata) of every chunk matching `where`."""
        for page in self._pages(["metadatas"], where):
            yield from zip(page["ids"], page["metadatas"], strict=True)

    def iter_documents(
        self, where: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any], str]]:
        """(id, metadata, text) of every chunk matching `where` (default: all)."""
        for page in self._pages(["metadatas", "documents"], where):
            yield from zip(page["ids"], page["metadatas"], page["documents"], strict=True)

    def get(self, ids: Sequence[str]) -> list[tuple[str, dict[str, Any], str, np.ndarray]]:
        """(id, metadata, text, vector) of the given chunks that exist."""
        if not ids:
            return []
        page = self.collection.get(ids=list(ids), include=["metadatas", "documents", "embeddings"])
        return [
            (cid, meta or {}, text or "", np.asarray(vec, dtype=np.float32))
            for cid, meta, text, vec in zip(
                page["ids"], page["metadatas"], page["documents"], page["embeddings"], strict=True
            )
        ]

    def get_documents(self, ids: Sequence[str]) -> list[tuple[str, dict[str, Any], str]]:
        """(id, metadata, text) of the given chunks that exist."""
        if not ids:
            return []
        page = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        return [
            (cid, meta or {}, text or "")
            for cid, meta, text in zip(
                page["ids"], page["metadatas"], page["documents"], strict=True
            )
        ]

    def iter_embeddings(self) -> Iterator[tuple[str, dict[str, Any], np.ndarray]]:
        """(id, metadata, vector) of every chunk."""
        for page in self._pages(["metadatas", "embeddings"]):
            vectors = page["embeddings"] if page["embeddings"] is not None else []
            for chunk_id, meta, vector in zip(page["ids"], page["metadatas"], vectors, strict=True):
                yield chunk_id, meta or {}, np.asarray(vector, dtype=np.float64)

    def iter_chunks(self) -> Iterator[tuple[str, dict[str, Any], str, np.ndarray]]:
        """(id, metadata, text, vector) of every chunk."""
        for page in self._pages(["metadatas", "documents", "embeddings"]):
            vectors = page["embeddings"] if page["embeddings"] is not None else []
            for chunk_id, meta, text, vector in zip(
                page["ids"], page["metadatas"], page["documents"], vectors, strict=True
            ):
                yield chunk_id, meta or {}, text or "", np.asarray(vector, dtype=np.float64)

    def query(self, vector: np.ndarray, k: int, where: Mapping[str, Any] | None) -> list[Hit]:
        if k <= 0:
            return []
        result = self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where=dict(where) if where else None,
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for chunk_id, text, meta, distance in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        ):
            similarity = 1.0 - float(distance)
            hits.append(Hit(chunk_id, text or "", similarity, meta or {}, similarity))
        return hits


def open_index(settings: IndexSettings, embedder: Embedder) -> ChromaIndex:
    return ChromaIndex(make_client(settings), embedder, settings.chroma_collection)
