"""When to say "the knowledge base does not cover this" instead of answering.

Calibrated scores (similarity less the language baseline, see retrieval/calibration.py) still
run lower for questions in languages the documents are not written in, so the threshold is
per question language. A question whose key terms mostly appear in a retrieved passage is
never refused on score alone. Thresholds were set on a hand-labelled set of 14 answerable and
12 out-of-scope questions over the samples, asked as a guest (tests/benchmarks/bench_abstain.py);
`zbrain eval` measures them on any golden set.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.terms import overlap
from retrieval.index import Hit

THRESHOLDS = {"zh": 0.045, "en": 0.041, "de": 0.030, "fr": 0.040, "ko": 0.030, "he": 0.040}
DEFAULT_THRESHOLD = 0.040
LEXICAL_RESCUE = 0.5
# With a model to judge the sources, only clearly unrelated retrievals are refused up front.
LLM_SLACK = 0.015


def threshold(language: str) -> float:
    return THRESHOLDS.get(language, DEFAULT_THRESHOLD)


def lacks_support(question: str, language: str, hits: Sequence[Hit], *, slack: float = 0.0) -> bool:
    if not hits:
        return True
    best_overlap = max(
        overlap(question, f"{h.metadata.get('title', '')} {h.text}") for h in hits[:3]
    )
    if best_overlap >= LEXICAL_RESCUE:
        return False
    best = max(h.score for h in hits[:3])
    return best < threshold(language) - slack
