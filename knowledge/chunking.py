"""Split Markdown-shaped text into chunks that fit the embedding model's 512-token window.

Chunks break at headings, list items and sentence ends (。！？； as well as . ! ? ;), carry a
small overlap of whole sentences, and keep the heading path they sit under.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.model import Chunk

TokenCounter = Callable[[str], int]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(
    r"^\s*(?:[-*+•·]|\d{1,3}[.)、]|[（(]?[一二三四五六七八九十]{1,3}[）)、]|[（(]\d{1,3}[）)])\s*"
)
# A sentence ends at CJK terminators, or at Western ones followed by a space; closing quotes
# and brackets stay with their sentence.
_SENTENCE_END = re.compile(
    r"(?<=[。！？；])(?![”’」』）)\]])|(?<=[.!?;][”’\"')\]])\s+|(?<=[.!?;])\s+"
)
_ORDINAL_END = re.compile(r"(?:^|[\s(–-])\d{1,2}\.$")
_TABLE_RULE = re.compile(r"^\|?[\s:|-]+\|?$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# How far ahead of a cut in an over-long sentence tokens are first counted, in characters
# per window token: enough to hold any sentence of a normal document whole; the span
# doubles when it holds too few tokens.
_WINDOW_CHARS_PER_TOKEN = 8


def estimate_tokens(text: str) -> int:
    """Rough XLM-R token count, for embedders that do not expose their tokenizer."""
    cjk = len(_CJK.findall(text))
    words = len(_WORD.findall(_CJK.sub(" ", text)))
    return cjk + int(words * 1.6) + 2


@dataclass(frozen=True)
class _Unit:
    path: tuple[str, ...]
    text: str
    new_block: bool
    tokens: int


def split_sentences(paragraph: str) -> list[str]:
    sentences: list[str] = []
    pending = ""
    for piece in _SENTENCE_END.split(paragraph):
        piece = (piece or "").strip()
        if not piece:
            continue
        # "1." or "e.g." alone is a list marker or abbreviation, not a sentence; neither
        # does a sentence end at a day or ordinal number such as "am 22. Oktober".
        if (len(piece) <= 4 and not _CJK.search(piece)) or _ORDINAL_END.search(piece):
            pending = f"{pending} {piece}".strip()
            continue
        sentences.append(f"{pending} {piece}".strip() if pending else piece)
        pending = ""
    if pending:
        sentences.append(pending)
    return sentences


def _blocks(text: str) -> list[tuple[tuple[str, ...], str]]:
    """(heading path, block text) for each paragraph or list item, in order."""
    path: list[tuple[int, str]] = []
    blocks: list[tuple[tuple[str, ...], str]] = []
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph:
            joined = _join_lines(paragraph)
            if joined.strip():
                blocks.append((tuple(h for _, h in path), joined))
            paragraph.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            paragraph.append(line)
            continue
        if in_fence:
            paragraph.append(line)
            continue
        heading = _HEADING.match(stripped)
        if heading:
            flush()
            level = len(heading.group(1))
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading.group(2).strip()))
            continue
        if not stripped:
            flush()
            continue
        if stripped.startswith("|"):
            # Each table row stands alone: joined into a paragraph, rows lose their meaning.
            flush()
            if not _TABLE_RULE.match(stripped):
                blocks.append((tuple(h for _, h in path), stripped))
            continue
        if _LIST_ITEM.match(line):
            flush()
        paragraph.append(stripped)
    flush()
    return blocks


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        # Wrapped CJK lines join without a space; Western ones with one.
        glue = "" if _CJK.search(out[-1:]) and _CJK.search(line[:1]) else " "
        out += glue + line
    return out


def _split_long(text: str, max_tokens: int, count: TokenCounter) -> list[str]:
    """Cut a sentence that alone exceeds the window, at spaces where there are any.

    Each cut counts only a window of the text ahead that holds more than `max_tokens`,
    never all that is left: counting the rest on every cut made one long line quadratic
    (a 1 MB line took minutes). A sentence shorter than the first window is cut exactly as
    by counting the whole rest."""
    pieces: list[str] = []
    start, end_of_text = 0, len(text)
    span = max_tokens * _WINDOW_CHARS_PER_TOKEN
    while start < end_of_text:
        while True:
            end = min(start + span, end_of_text)
            tokens = count(text[start:end])
            if tokens > max_tokens or end == end_of_text:
                break
            span *= 2
        if tokens <= max_tokens:
            pieces.append(text[start:end_of_text].strip())
            break
        cut = max(int((end - start) * (max_tokens / tokens) * 0.95), 1)
        # The next window: a little more than a window's worth at this text's density, so
        # that a model tokenizer (the slow part) reads each character about twice, not 3x.
        span = max(int((end - start) * (max_tokens / tokens) * 1.3), max_tokens)
        space = text.rfind(" ", start, start + cut)
        if space - start > cut // 2:
            cut = space - start
        pieces.append(text[start : start + cut].strip())
        start += cut
        while start < end_of_text and text[start].isspace():
            start += 1
    return [piece for piece in pieces if piece]


def _glue(previous: str, unit: _Unit) -> str:
    if unit.new_block:
        return "\n"
    if _CJK.search(previous[-1:]) or _CJK.search(unit.text[:1]):
        return ""
    return " "


def chunk_text(
    text: str,
    *,
    count_tokens: TokenCounter = estimate_tokens,
    max_tokens: int = 380,
    overlap_tokens: int = 48,
    min_tokens: int = 100,
) -> list[Chunk]:
    """Chunk a document. Sizes are in embedding-model tokens; the defaults leave room in a
    512-token window for the title and heading line that are embedded with each chunk."""
    units: list[_Unit] = []
    for path, block in _blocks(text):
        for index, sentence in enumerate(split_sentences(block)):
            for piece_index, piece in enumerate(_split_long(sentence, max_tokens, count_tokens)):
                units.append(
                    _Unit(path, piece, index == 0 and piece_index == 0, count_tokens(piece))
                )

    chunks: list[Chunk] = []
    current: list[_Unit] = []
    size = 0

    def emit() -> None:
        body = ""
        last_path: tuple[str, ...] | None = None
        for unit in current:
            if last_path is not None and unit.path != last_path and unit.path:
                # A chunk spanning small sections keeps the inner headings as text.
                body += "\n" + unit.path[-1] + "\n" + unit.text
            else:
                body += (_glue(body, unit) if body else "") + unit.text
            last_path = unit.path
        chunks.append(Chunk(text=body.strip(), heading_path=current[0].path, position=len(chunks)))

    for unit in units:
        section_changed = bool(current) and unit.path != current[-1].path
        if current and (
            size + unit.tokens > max_tokens or (section_changed and size >= min_tokens)
        ):
            emit()
            carried: list[_Unit] = []
            if not section_changed:
                for previous in reversed(current):
                    if sum(u.tokens for u in carried) + previous.tokens > overlap_tokens:
                        break
                    carried.insert(0, previous)
                if sum(u.tokens for u in carried) + unit.tokens > max_tokens:
                    carried = []
            current = carried
            size = sum(u.tokens for u in carried)
        current.append(unit)
        size += unit.tokens
    if current:
        emit()
    return chunks
