"""Tokens for BM25: jieba for Chinese, character bigrams for Korean, prefix-stripped words
for Hebrew, lower-cased words for Latin scripts, numbers kept whole."""

from __future__ import annotations

import logging
import re
from functools import cache

from retrieval.terms import STOPWORDS

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7af]+")
_HEBREW_WORD = re.compile(r"[\u05d0-\u05ea\u05f0-\u05f4]+")
_OTHER_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HEBREW_PREFIXES = "הובלמשכ"
_NUMBER_SEPARATORS = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")


@cache
def jieba_segmenter():  # type: ignore[no-untyped-def]
    """jieba, initialised once (loading its dictionary takes a second)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    lowered = _NUMBER_SEPARATORS.sub("", text.lower())
    tokens: list[str] = []
    for run in _CJK_RUN.findall(lowered):
        tokens.extend(
            t for t in jieba_segmenter().lcut_for_search(run) if t.strip() and t not in STOPWORDS
        )
    rest = _CJK_RUN.sub(" ", lowered)
    for run in _HANGUL_RUN.findall(rest):
        tokens.append(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    rest = _HANGUL_RUN.sub(" ", rest)
    for word in _HEBREW_WORD.findall(rest):
        tokens.append(word)
        if len(word) > 3 and word[0] in _HEBREW_PREFIXES:
            tokens.append(word[1:])
    rest = _HEBREW_WORD.sub(" ", rest)
    for word in _OTHER_WORD.findall(rest):
        if (len(word) >= 2 or word.isdigit()) and word not in STOPWORDS:
            tokens.append(word)
    return tokens
