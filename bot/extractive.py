"""Answers without a language model: the best-matching sentences of the top passages,
quoted in their own language and cited, under one localized line saying so."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bot import i18n
from bot.citations import Passage
from knowledge.chunking import split_sentences
from retrieval.embeddings import Embedder
from retrieval.terms import overlap

MAX_SENTENCES = 4
_PASSAGES_CONSIDERED = 3
_TERMINATED = re.compile(r"[。！？；.!?;]$")


def candidate_sentences(text: str) -> list[str]:
    sentences = []
    for line in text.splitlines():
        is_row = line.lstrip().startswith("|")
        line = re.sub(r"^\s*(?:[-*•]|\|)\s*", "", line).strip().rstrip("|").strip()
        line = re.sub(r"\s*\|\s*", " | ", line)
        if is_row and not re.search(r"\d", line):
            continue  # a table's header row says nothing on its own
        for sentence in split_sentences(line):
            # Headings carried into the chunk text and other fragments are not answers.
            if len(sentence) < 12 and not _TERMINATED.search(sentence):
                continue
            sentences.append(sentence)
    return sentences


def compose(question: str, passages: Sequence[Passage], language: str, embedder: Embedder) -> str:
    """The answer text, citing passages by their number."""
    candidates: list[tuple[int, int, str]] = []  # (passage number, order, sentence)
    for passage in passages[:_PASSAGES_CONSIDERED]:
        for order, sentence in enumerate(candidate_sentences(passage.hit.text)):
            candidates.append((passage.number, order, sentence))
    if not candidates:
        return i18n.text("answer.extractive_preface", language)
    query = embedder.embed_query(question)
    vectors = embedder.embed_passages([s for _, _, s in candidates])
    scores = vectors @ query + 0.1 * np.array([overlap(question, s) for _, _, s in candidates])
    # The passage ranking already reflects relevance; prefer the first passages a little.
    scores -= 0.005 * np.array([n for n, _, _ in candidates])
    chosen = sorted(
        np.argsort(-scores)[:MAX_SENTENCES], key=lambda i: (candidates[i][0], candidates[i][1])
    )
    lines = [f"- {candidates[i][2]} [{candidates[i][0]}]" for i in chosen]
    return i18n.text("answer.extractive_preface", language) + "\n" + "\n".join(lines)
