"""Whole-word matching in the six working languages, for recognising what a message asks.

A substring test routes "leading" to "lead" and "重点项目" to "项目". Here a phrase counts only
as a whole word of the text, by the rules of its script:
- Latin script: not touching another Latin letter or digit ("lead" is not in "leading", but
  is in "查看lead");
- Chinese: the phrase must begin and end where jieba's segmentation puts word boundaries
  ("项目" is not in 重点项目 | 概况, "线索" is in 特拉维夫 | 线索 | 汇总);
- Korean: not inside another Hangul word, but a particle or 해/해줘 may follow
  ("리드를", "요약해줘"; not "리더십", "리드하는");
- Hebrew: up to three prefix letters (ו ה ב ל מ ש כ) may come first ("הלידים", "ללידים").
Texts are compared after `knowledge.glossary.normalize` (case, width, quotes, "-" as a space).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from knowledge.glossary import normalize
from retrieval.tokenize import jieba_segmenter

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HEBREW = re.compile(r"[\u05d0-\u05ea]")
# Word characters other than CJK, Hangul and Hebrew (those have their own rules above).
_LATIN_NEIGHBOUR = r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u05d0-\u05ea]"
_KOREAN_TAIL = (
    "들", "은", "는", "이", "가", "을", "를", "의", "에", "에서", "도", "만", "과", "와", "로",
    "으로", "해", "해줘", "해 줘", "해주세요", "해 주세요", "하기", "하다", "이요", "요",
)  # fmt: skip
_HEBREW_PREFIXES = "ובהלמשכ"
_LETTER = re.compile(r"[^\W\d_]")


class Text:
    """A message prepared for matching: normalized once, segmented once (when it has Chinese)."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.key = normalize(raw)

    @cached_property
    def boundaries(self) -> tuple[frozenset[int], frozenset[int]]:
        """Where jieba's words start and end in `key`."""
        if not _HAN.search(self.key):
            return frozenset(), frozenset()
        words = list(jieba_segmenter().tokenize(self.key))
        return frozenset(s for _, s, _ in words), frozenset(e for _, _, e in words)


def _pattern(phrases: list[str]) -> str:
    """One alternation per script, each bounded once: a bound repeated on every phrase made
    compiling the lexicons a good part of every command's start-up."""
    hangul = [re.escape(p) for p in phrases if _HANGUL.match(p)]
    hebrew = [re.escape(p) for p in phrases if _HEBREW.match(p) and not _HANGUL.match(p)]
    latin = [re.escape(p) for p in phrases if not _HANGUL.match(p) and not _HEBREW.match(p)]
    parts = []
    if latin:
        parts.append(rf"(?<!{_LATIN_NEIGHBOUR})(?:{'|'.join(latin)})(?!{_LATIN_NEIGHBOUR})")
    if hangul:
        tail = "|".join(re.escape(t) for t in sorted(_KOREAN_TAIL, key=len, reverse=True))
        parts.append(rf"(?<![\uac00-\ud7af])(?:{'|'.join(hangul)})(?:{tail})?(?![\uac00-\ud7af])")
    if hebrew:
        parts.append(
            rf"(?<![\u05d0-\u05ea])[{_HEBREW_PREFIXES}]{{0,3}}(?:{'|'.join(hebrew)})"
            r"(?![\u05d0-\u05ea])"
        )
    return "|".join(parts)


class Lexicon:
    """Phrases (in any of the languages) to find as whole words in a `Text`."""

    def __init__(self, phrases: Iterable[str]) -> None:
        keys = sorted({normalize(p) for p in phrases if normalize(p)}, key=len, reverse=True)
        self.phrases = tuple(keys)
        self.han = [k for k in keys if _HAN.match(k)]
        others = [k for k in keys if not _HAN.match(k)]
        self.pattern = re.compile(_pattern(others)) if others else None

    def __or__(self, other: Lexicon) -> Lexicon:
        return Lexicon((*self.phrases, *other.phrases))

    def spans(self, text: Text) -> list[tuple[int, int]]:
        """Where the phrases stand in `text.key`, as (start, end) offsets."""
        found = [m.span() for m in self.pattern.finditer(text.key)] if self.pattern else []
        if self.han:
            starts, ends = text.boundaries
            for phrase in self.han:
                at = text.key.find(phrase)
                while at != -1:
                    if at in starts and at + len(phrase) in ends:
                        found.append((at, at + len(phrase)))
                    at = text.key.find(phrase, at + 1)
        return sorted(found)

    def found_in(self, text: Text) -> bool:
        return bool(self.spans(text))

    def first(self, text: Text) -> str | None:
        """The first phrase found in the text, as written there."""
        spans = self.spans(text)
        return text.key[spans[0][0] : spans[0][1]] if spans else None


def only(text: Text, lexicon: Lexicon) -> bool:
    """Whether the text holds nothing but phrases of the lexicon (and punctuation or digits):
    "show L-0042" once the id is taken out, not "who is the contact of L-0042"."""
    rest = list(text.key)
    for start, end in lexicon.spans(text):
        rest[start:end] = " " * (end - start)
    return not _LETTER.search("".join(rest))
