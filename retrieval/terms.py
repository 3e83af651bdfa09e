"""Key terms of a question (words, CJK bigrams, numbers) and how many a passage shares."""

from __future__ import annotations

import re

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
STOPWORDS = {
    # en
    "the",
    "and",
    "for",
    "are",
    "was",
    "what",
    "which",
    "who",
    "how",
    "much",
    "many",
    "does",
    "can",
    "there",
    "with",
    "from",
    "this",
    "that",
    "about",
    "into",
    "any",
    "get",
    "our",
    "you",
    "your",
    "have",
    "has",
    "is",
    "of",
    "to",
    "in",
    "a",
    "an",
    "on",
    "do",
    "it",
    "be",
    "or",
    "by",
    "at",
    # de
    "der",
    "die",
    "das",
    "und",
    "für",
    "gibt",
    "wie",
    "viel",
    "viele",
    "welche",
    "ist",
    "ein",
    "eine",
    "den",
    "dem",
    "des",
    "mit",
    "von",
    "auf",
    "es",
    "im",
    "zu",
    "bei",
    "hoch",
    # fr
    "les",
    "une",
    "pour",
    "quelle",
    "quel",
    "est",
    "aux",
    "dans",
    "sur",
    "combien",
    "qui",
    "que",
    # zh function bigrams
    "什么",
    "怎么",
    "多少",
    "哪些",
    "是否",
    "可以",
    "有没",
    "没有",
    "如何",
    "请问",
}


def key_terms(text: str) -> set[str]:
    lowered = text.lower()
    terms: set[str] = set()
    for run in _CJK_RUN.findall(lowered):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            terms.add(run)
    without_cjk = _CJK_RUN.sub(" ", lowered)
    terms.update(w for w in _WORD.findall(without_cjk) if len(w) >= 3 and not w.isdigit())
    terms.update(n.replace(",", "") for n in _NUMBER.findall(lowered))
    return {t for t in terms if t not in STOPWORDS}


def overlap(question: str, passage: str) -> float:
    """Share of the question's key terms found in the passage (0 when it has none)."""
    terms = key_terms(question)
    if not terms:
        return 0.0
    haystack = passage.lower().replace(",", "")
    return sum(1 for t in terms if t in haystack) / len(terms)
