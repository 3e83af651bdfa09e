"""Ingestion throughput and cross-lingual retrieval on the sample knowledge base.

Run from the repository root: python -m tests.benchmarks.bench_foundation  (about 4 minutes)
Results are recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from bot.services import Services
from bot.settings import load_settings
from knowledge.ingest import SAMPLES_DIR
from retrieval.search import search

# (question, the Chinese-only policy that answers it)
CROSS_LINGUAL = [
    ("How much can a startup get from the AI computing power voucher?", "policy-ai-compute-2025"),
    ("What support is there for chip tape-out and MPW costs?", "policy-semiconductor-2025"),
    ("How much rent relief can a lab get?", "policy-lab-rent-2025"),
    ("What is the reward for a company listing on the stock exchange?", "policy-listing-2023"),
    ("How does the government guidance fund co-invest in startups?", "policy-vc-fund-2025"),
    ("Subsidy for buying advanced manufacturing equipment", "policy-equipment-2025"),
    ("Welche Förderung gibt es für den Bau von Wasserstofftankstellen?", "policy-hydrogen-2025"),
    ("Zuschuss für internationale PCT-Patentanmeldungen", "policy-ip-2025"),
    ("Gibt es Zuschüsse für Reinraum-Chipfertigung und EDA-Software?", "policy-semiconductor-2025"),
    ("Förderung für internationale gemeinsame Forschungszentren", "policy-intl-joint-center-2025"),
    ("임상시험 비용은 얼마나 지원받을 수 있나요?", "policy-biomed-clinical-2025"),
    ("인재 아파트 임대료는 얼마입니까?", "policy-talent-apartment-2025"),
    ("반도체 설계 EDA 소프트웨어 보조금", "policy-semiconductor-2025"),
    ("수소 충전소 건설 보조금", "policy-hydrogen-2025"),
    ("AI 컴퓨팅 바우처 신청 방법", "policy-ai-compute-2025"),
    ("신약 임상시험 지원", "policy-biomed-clinical-2025"),
    ("특허 출원 지원금", "policy-ip-2025"),
    ("Quelle aide pour les essais cliniques ?", "policy-biomed-clinical-2025"),
]


def _services(data_dir: Path, cache: Path) -> Services:
    return Services(load_settings(ZBRAIN_DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{cache}"))


def _timed_ingest(services: Services, label: str) -> None:
    started = time.perf_counter()
    report = services.ingestor().ingest([SAMPLES_DIR])
    seconds = time.perf_counter() - started
    print(
        f"{label:32s} {report.chunks:4d} chunks  {report.embedded:4d} embedded  "
        f"{seconds:6.1f} s  {report.chunks / seconds:6.1f} chunks/s"
    )


def _doc_rank(hits, expected: str) -> int | None:  # type: ignore[no-untyped-def]
    docs = list(dict.fromkeys(h.metadata["doc_id"] for h in hits))
    return docs.index(expected) + 1 if expected in docs else None


def _recall(ranks: list[int | None], n: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= n) / len(ranks)


def _truly_cold(root: Path) -> None:
    """A fresh data dir whose embedding cache is not seeded with the shipped sample vectors:
    every chunk is embedded, by both views (the first search builds the second view)."""
    import bot.services

    shipped = bot.services.shipped_rows
    bot.services.shipped_rows = lambda model_id: {}
    try:
        services = _services(root / "truly-cold", root / "truly-cold.db")
        started = time.perf_counter()
        _timed_ingest(services, "truly cold (nothing shipped)")
        services.search("How much is the home-settlement subsidy?", role="guest", k=5)
        print(f"{'  … and the first search':32s} {time.perf_counter() - started:6.1f} s in all")
    finally:
        bot.services.shipped_rows = shipped


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _truly_cold(root)
        cold = _services(root / "cold", root / "cache.db")
        _timed_ingest(cold, "fresh data dir (shipped vectors)")
        _timed_ingest(_services(root / "warm", root / "cache.db"), "warm cache, new index")
        _timed_ingest(cold, "re-ingest, nothing changed")

        print("\nCross-lingual (question language != document language), distinct documents:")
        for label, calibrated in (("raw cosine", False), ("language-calibrated", True)):
            ranks = []
            latencies = []
            for question, expected in CROSS_LINGUAL:
                started = time.perf_counter()
                hits = search(
                    cold.index,
                    cold.vectors,
                    cold.embedder,
                    question,
                    mode="dense",
                    role="guest",
                    k=20,
                    per_document=1,
                    calibration=cold.calibration if calibrated else None,
                )
                latencies.append((time.perf_counter() - started) * 1000)
                ranks.append(_doc_rank(hits, expected))
            mrr = float(np.mean([1 / r if r else 0 for r in ranks]))
            print(
                f"{label:20s} recall@1 {_recall(ranks, 1):.2f}  "
                f"recall@3 {_recall(ranks, 3):.2f}  recall@5 {_recall(ranks, 5):.2f}  "
                f"MRR {mrr:.3f}  p50 {np.percentile(latencies, 50):.0f} ms  ranks {ranks}"
            )


if __name__ == "__main__":
    main()
