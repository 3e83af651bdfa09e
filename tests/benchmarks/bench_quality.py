"""Retrieval quality on the shipped golden set: hybrid vs dense-only vs BM25-only vs a naive
baseline (one Chroma similarity search: no calibration, no fusion, no de-duplication),
same run, same data.

Run from the repository root: python -m tests.benchmarks.bench_quality [DATA_DIR]
Results are recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bot.evaluation import _distinct_docs, doc_matches, load_golden
from bot.services import Services
from bot.settings import load_settings
from knowledge.ingest import SAMPLES_DIR
from retrieval.filters import SearchFilters, asks_about_history

GOLDEN = SAMPLES_DIR.parent / "golden.yaml"
K = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp)
        services = Services(load_settings(ZBRAIN_DATA_DIR=str(data_dir)))
        if services.index.count() == 0:
            services.ingestor().ingest([SAMPLES_DIR])
        questions = [q for q in load_golden(GOLDEN) if q.expected_docs and q.expect == "answer"]
        for mode in ("hybrid", "dense", "bm25", "naive"):
            hits_at: dict[str, list[int | None]] = {"all": [], "cross_lingual": []}
            for q in questions:
                filters = SearchFilters(include_expired=asks_about_history(q.question))
                hits = services.search(
                    q.question, role=q.role or "guest", k=K * 4, filters=filters, mode=mode
                )  # type: ignore[arg-type]
                docs = _distinct_docs(hits)[:K]
                rank = next(
                    (
                        i
                        for i, m in enumerate(docs, 1)
                        if any(doc_matches(m, e) for e in q.expected_docs)
                    ),
                    None,
                )
                hits_at["all"].append(rank)
                if q.type == "cross_lingual":
                    hits_at["cross_lingual"].append(rank)
            parts = []
            for group, ranks in hits_at.items():
                r1 = sum(1 for r in ranks if r == 1) / len(ranks)
                rk = sum(1 for r in ranks if r) / len(ranks)
                mrr = sum(1 / r for r in ranks if r) / len(ranks)
                parts.append(f"{group}: R@1 {r1:.2f} R@{K} {rk:.2f} MRR {mrr:.2f} (n={len(ranks)})")
            print(f"{mode:7s} " + " | ".join(parts))


if __name__ == "__main__":
    main()
