"""Sentences of a passage, for quoting: abbreviations, ordinal dates, decimals, emphasis and
table rows survive whole.

A Western full stop ends a sentence only where a person would read one: not after "etc.",
"e.g.", "z. B.", "Nr.", "bzw.", "ca.", "Dr.", "M." or an initial, not after a day number
("am 26. September"), not inside "3.5", not before a lowercase word, not inside `**…**` or an
open bracket. A semicolon ends a sentence only before a capital letter, so "…no older than
55; no age limit for Category A" stays one sentence. CJK terminators (。！？；) always end one.
Markdown table rows are sentences of their own, each carrying its table's header
("Category: A | Description: Top talent | Subsidy: RMB 5 million"), so a quoted row says what
its figures are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lowercase, without the final dot; internal dots and spaces as written ("z. b" is "z." "b.").
ABBREVIATIONS = frozenset(
    # en
    "etc e.g i.e eg ie vs approx incl no nos mr mrs ms dr prof st co corp inc ltd jr sr fig "  # noqa: SIM905
    "vol pp cf al est dept max min jan feb mar apr jun jul aug sep sept oct nov dec u.s a.m p.m "
    # de
    "z.b bzw ca nr usw u.a d.h inkl ggf vgl evtl sog str abs art mio mrd tsd zzgl geb hrsg bspw "
    # fr (he, ko and zh write no abbreviations with a Western full stop)
    "mm mme mmes mlle env av bd ex n° chap".split()
)
# A category letter: "Category A.", "Kategorie B." may end a sentence (a lone capital before a
# full stop is otherwise an initial, "M. Dupont").
_CATEGORY_WORD = re.compile(
    r"(?:category|categories|class|grade|level|type|kategorie|klasse|stufe|typ|catégorie|"
    r"classe|niveau|and|und|et|or|oder|ou)\s*$",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CLOSERS = "”’」』）)]\"'*"
# Candidate boundaries: after a CJK terminator (with closers), or after . ! ? ; (with closers)
# followed by whitespace.
_BOUNDARY = re.compile(rf"[。！？；][{re.escape(_CLOSERS)}]*|[.!?;][{re.escape(_CLOSERS)}]*(?=\s)")
_WORD_BEFORE = re.compile(r"([^\s(（\[\"“]+)$")
_LIST_MARKER = re.compile(
    r"^\s*(?:[-+•·]\s+|\*\s+|\d{1,3}[.)]\s+|\d{1,3}、\s*|[（(][一二三四五六七八九十\d]{1,3}[）)]\s*"
    r"|[一二三四五六七八九十]{1,3}、\s*)"
)
_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_HEADING = re.compile(r"^#{1,6}\s+")
# A long run without a boundary the rules above accept is still cut at its terminators.
_MAX_CHARS = 600


def _is_boundary(text: str, start: int, end: int) -> bool:
    """Whether the terminator text[start:end] ends a sentence."""
    mark = text[start]
    before = text[:start]
    after = text[end:].lstrip()
    if not after:
        return True
    if mark in "。！？；":
        return True
    if _open_span(before):
        return False
    if mark in "!?":
        return True
    next_char = after[0]
    if next_char.islower() or next_char in ",;:)）]":
        return False  # no sentence starts lowercase in the Latin-script languages
    if mark == ";":
        return next_char.isupper()
    word = (_WORD_BEFORE.search(before) or [""])[0].lower()
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return False
    if re.fullmatch(r"\d{1,2}", word):
        # "am 26. September", "der 3. Preis": a day or an ordinal, not a sentence end.
        return False
    # A lone letter is an initial ("M. Dupont", "z. B."), unless it names a category.
    return not re.fullmatch(r"[a-z]", word) or bool(_CATEGORY_WORD.search(before[: -len(word)]))


def _open_span(text: str) -> bool:
    """An unclosed bracket or `**`/`*` emphasis: the sentence goes on inside it."""
    if text.count("**") % 2 or text.replace("**", "").count("*") % 2:
        return True
    depth = 0
    for char in text[-_MAX_CHARS:]:
        if char in "(（[":
            depth += 1
        elif char in ")）]" and depth:
            depth -= 1
    return depth > 0


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph (or list item), in order, stripped."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end()
        long_run = end - start > _MAX_CHARS
        if _is_boundary(paragraph, match.start(), end) or long_run:
            piece = paragraph[start:end].strip()
            if piece:
                sentences.append(piece)
            start = end
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int  # the line of the passage it starts on
    table_row: bool = False


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _row_text(header: list[str] | None, cells: list[str]) -> str:
    if not header or len(header) != len(cells):
        return " | ".join(c for c in cells if c)
    parts = []
    for name, value in zip(header, cells, strict=True):
        if not value:
            continue
        colon = "：" if _CJK.search(name[-1:] or "") else ": "
        parts.append(f"{name}{colon}{value}" if name else value)
    return " | ".join(parts)


def _is_header(lines: list[str], index: int) -> bool:
    """A table's first row, or a row followed by the |---| rule, holds names, not data."""
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if _TABLE_RULE.match(following) and following.startswith("|"):
        return True
    previous = lines[index - 1].strip() if index else ""
    return not previous.startswith("|") and not re.search(r"\d", lines[index])


def passage_sentences(text: str) -> list[Sentence]:
    """Every sentence of a chunk: paragraphs and list items split into sentences (list
    markers dropped, emphasis kept), headings left out, table rows whole with their header."""
    lines = text.splitlines()
    found: list[Sentence] = []
    header: list[str] | None = None
    for number, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("|"):
            if _TABLE_RULE.match(line):
                continue
            if header is None and _is_header(lines, number):
                header = _cells(line)
                continue
            found.append(Sentence(_row_text(header, _cells(line)), number, table_row=True))
            continue
        header = None
        if _HEADING.match(line):
            continue
        body = _LIST_MARKER.sub("", line, count=1).strip()
        for sentence in split_sentences(body):
            found.append(Sentence(sentence, number))
    return found
