"""Today's chunker against langchain-text-splitters, measured by golden-set retrieval.

Run from the repository root:
    python -m tests.benchmarks.bench_chunkers [knowledge/samples/golden.yaml] [--cache URL]

Each chunker ingests the sample knowledge base into a fresh data dir (one shared embedding
cache, so a chunk both chunkers produce is embedded once), then every golden question that
should be answered is searched as the answer pipeline searches it (its role, k = 8, expired
policies included for questions about the past) and ranked by distinct documents.

The LangChain chunker is the combination its documentation recommends for Markdown:
MarkdownHeaderTextSplitter (headings become the chunk's heading path), then
RecursiveCharacterTextSplitter with CJK sentence ends among its separators and the same token
length function, window and overlap as ours (380 / 48 embedding-model tokens).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

import knowledge.ingest as ingest_module
from bot.evaluation import doc_matches, load_golden
from bot.services import Services
from bot.settings import load_settings
from knowledge.chunking import chunk_text, estimate_tokens
from knowledge.model import Chunk
from retrieval.filters import SearchFilters, asks_about_history

HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "; ", "，", ", ", " ", ""]
K = 5


def langchain_chunker(
    max_tokens: int = 380, overlap_tokens: int = 48
) -> Callable[..., list[Chunk]]:
    def chunk(text: str, *, count_tokens: Callable[[str], int] = estimate_tokens) -> list[Chunk]:
        sections = MarkdownHeaderTextSplitter(HEADERS, strip_headers=True).split_text(text)
        splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            keep_separator="end",
            chunk_size=max_tokens,
            chunk_overlap=overlap_tokens,
            length_function=count_tokens,
        )
        chunks: list[Chunk] = []
        for section in sections:
            path = tuple(section.metadata[name] for _, name in HEADERS if name in section.metadata)
            for piece in splitter.split_text(section.page_content):
                if piece.strip():
                    chunks.append(Chunk(piece.strip(), path, len(chunks)))
        return chunks

    return chunk


def measure(name: str, chunker: Callable[..., list[Chunk]], golden: Path, cache: str) -> dict:
    ingest_module.chunk_text = chunker  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        services = Services(load_settings(ZBRAIN_DATA_DIR=folder, ZBRAIN_EMBEDDING_CACHE_URL=cache))
        started = time.perf_counter()
        services.ensure_samples()
        ingest_seconds = time.perf_counter() - started
        chunks = services.index.count()
        ranks: list[int | None] = []
        cross: list[int | None] = []
        for q in load_golden(golden):
            if q.expect != "answer" or not q.expected_docs:
                continue
            filters = SearchFilters(include_expired=asks_about_history(q.question))
            hits = services.search(q.question, role=q.role or "guest", k=8, filters=filters)
            docs: list[dict] = []
            for hit in hits:
                if all(d.get("doc_id") != hit.metadata.get("doc_id") for d in docs):
                    docs.append(dict(hit.metadata))
            rank = next(
                (
                    i
                    for i, meta in enumerate(docs[:K], start=1)
                    if any(doc_matches(meta, e) for e in q.expected_docs)
                ),
                None,
            )
            ranks.append(rank)
            if q.type == "cross_lingual":
                cross.append(rank)
        services.close()
    n = len(ranks)
    return {
        "chunker": name,
        "chunks": chunks,
        "ingest_s": round(ingest_seconds, 1),
        "n": n,
        "recall@1": round(sum(r == 1 for r in ranks) / n, 3),
        f"recall@{K}": round(sum(r is not None for r in ranks) / n, 3),
        "mrr": round(sum(1 / r for r in ranks if r) / n, 3),
        "cross_lingual_recall@1": round(sum(r == 1 for r in cross) / max(len(cross), 1), 3),
        f"cross_lingual_recall@{K}": round(
            sum(r is not None for r in cross) / max(len(cross), 1), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("golden", nargs="?", default="knowledge/samples/golden.yaml")
    parser.add_argument("--cache", default=None, help="embedding cache URL shared by the runs")
    args = parser.parse_args()
    cache = args.cache or f"sqlite:///{Path(tempfile.gettempdir()) / 'bench-chunkers-cache.db'}"
    results = [
        measure("zbrain (knowledge/chunking.py)", chunk_text, Path(args.golden), cache),
        measure("langchain-text-splitters", langchain_chunker(), Path(args.golden), cache),
    ]
    for row in results:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
