"""Answers without a language model: the sentences of the top passages that carry what the
question asks for, quoted in their own language and cited, under one localized line saying
so; a sentence in another language than the asker's gets a gloss line (its amounts and park
terms in the asker's language).

A sentence is chosen for its closeness to the question (embedding and shared words), and
more for holding what is asked: the kind of figure (an amount for "how much", a date for
"when"; any figure for a question about a subsidy), the things named (a year, a category, a
place) and the park terms (in any language the glossary knows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot import i18n
from bot.asks import Asked, answering_kinds, asked
from bot.citations import Passage
from bot.gloss import gloss_line
from knowledge.glossary import Glossary, normalize
from knowledge.sentences import passage_sentences
from retrieval.embeddings import Embedder
from retrieval.terms import overlap

MAX_SENTENCES = 4
LIST_ITEMS = 3  # quoted after a sentence that introduces a list
_PASSAGES_CONSIDERED = 3
_TERMINATED = re.compile(r"[。！？；.!?;:：]\**$")
# Weights on top of the sentence's similarity to the question (standardised to the spread
# SPREAD_REFERENCE below), fitted by hand on knowledge/samples/tuning.yaml.
OVERLAP_WEIGHT = 0.1
FIGURE_BONUS = 0.06  # holds the kind of figure asked for
THING_BONUS = 0.04  # times the share of the named things it holds
TERM_BONUS = 0.03  # times the share of the question's park terms it names
SIBLING_SENTENCES = 4
# The sentences' similarities are standardised and given this spread, so that the bonuses
# above weigh the same whether a passage's sentences lie close together or far apart (fitted
# on both tuning sets: fact coverage 0.65 / 0.67 unscaled, 0.69 / 0.70 at 0.03, flat to 0.04).
SPREAD_REFERENCE = 0.03
PASSAGE_RANK_PENALTY = 0.015  # per place below the first document: search ranked them
# Questions about a benefit ask, without saying so, for its amount.
_BENEFIT_ASKED = re.compile(
    r"补贴|奖励|资助|支持|扶持|优惠|subsid|grant|reward|incentive|support|funding|förder|"
    r"zuschuss|prämie|beihilfe|unterstütz|aide|subvention|prime|soutien|보조금|지원|장려금|"
    r"혜택|סבסוד|מענק|תמיכה|הטב",
    re.IGNORECASE,
)


def candidate_sentences(text: str) -> list[str]:
    """The sentences of a passage worth quoting: headings and fragments left out, table
    rows whole with their header."""
    sentences = []
    for sentence in passage_sentences(text):
        # Inner headings carried into the chunk text and other fragments are not answers.
        if not sentence.table_row and (
            (len(sentence.text) < 12 and not _TERMINATED.search(sentence.text))
            or _looks_like_heading(sentence.text)
        ):
            continue
        sentences.append(sentence.text)
    return sentences


def _looks_like_heading(text: str) -> bool:
    # "3.2 Individual income tax reward", "（二）加氢站建设与运营": short, numbered, unended.
    return (
        len(text) < 40
        and not _TERMINATED.search(text)
        and bool(re.match(r"^(?:\d+(?:\.\d+)*|[（(]?[一二三四五六七八九十]+[）)、])\s*\S", text))
    )


@dataclass(frozen=True)
class _Candidate:
    number: int  # the passage's citation number
    order: int
    text: str
    language: str
    title: str


def _fit(question: Asked, candidate: _Candidate, glossary: Glossary | None, benefit: bool) -> float:
    """How much of what the question asks for the sentence holds."""
    score = 0.0
    sentence = candidate.text
    kinds = answering_kinds(sentence)
    wanted = set(question.figures)
    if (wanted and kinds & wanted) or (question.any_figure and kinds - {"date"}):
        score += FIGURE_BONUS
    elif benefit and not wanted and kinds - {"date"}:
        score += FIGURE_BONUS / 2  # a benefit's figure, asked for without saying so
    if question.things:
        # A report's year or node is often only in its title ("慕尼黑节点2019年第四季度…").
        found = sum(t.found_in(sentence) or t.found_in(candidate.title) for t in question.things)
        score += THING_BONUS * found / len(question.things)
    if question.terms and glossary is not None:
        key = normalize(sentence)
        named = sum(
            any(normalize(v) in key for v in entry.variants() if v.strip())
            for entry in question.terms
        )
        score += TERM_BONUS * named / len(question.terms)
    return score


_INTRODUCES = re.compile(r"[:：]\**$")


def _list_after(candidates: Sequence[_Candidate], i: int) -> list[int]:
    """A sentence that introduces a list ("…主要包括：", "Conditions:") says nothing without the
    items that follow it in its passage: those, up to LIST_ITEMS."""
    if not _INTRODUCES.search(candidates[i].text):
        return []
    head = candidates[i]
    following = {c.order: j for j, c in enumerate(candidates) if c.number == head.number}
    items = []
    for order in range(head.order + 1, head.order + 1 + LIST_ITEMS):
        if order not in following:
            break
        items.append(following[order])
    return items


# Where a question asks a second thing: after a question mark, or at a conjunction that opens
# another question ("…, and how many…", "… und bis zu welcher Höhe…", "그리고", "…하고,", "…, ו…").
_PART_BREAK = re.compile(
    r"(?<=[?？])\s*|[，,;；]?\s+(?=(?:and|und|et|sowie)\s+(?:how|what|when|which|who|where|is|are|"
    r"does|do|can|wie|was|wann|welche[rsnm]?|wer|wo|bis|ab|ob|gibt|quel(?:le)?s?|combien|quand|"
    r"que|qui|où|comment|est-ce)\b)|\s+(?=그리고\s)|(?<=[가-힣]고),\s*|,\s*(?=ו)",
    re.IGNORECASE,
)


def question_parts(question: str) -> list[str]:
    """The parts of a question that asks more than one thing (one part when it asks one)."""
    parts = [p.strip() for p in _PART_BREAK.split(question) if p and p.strip()]
    return [p for p in parts if len(p) >= 4] or [question]


def compose(
    question: str,
    passages: Sequence[Passage],
    language: str,
    embedder: Embedder,
    glossary: Glossary | None = None,
    siblings: Sequence[str] = (),
    centroids: Mapping[str, np.ndarray] | None = None,
) -> str:
    """The answer text, citing passages by their number. `siblings` are the other chunks of
    the first passage's document: search ranked the document first, though perhaps for a
    chunk that names the topic (the application papers) rather than the one with the figure;
    their sentences that hold what is asked compete too, cited as the first passage.
    `centroids` (retrieval/calibration.py) take each language's baseline off a sentence's
    similarity, as search does for chunks: a question is closer to any sentence in its own
    language, and the English talent table must not outrank the Chinese hydrogen figure."""
    candidates: list[_Candidate] = []
    seen: set[str] = set()
    # Search ranked documents; two chunks of the first document are both its text, as its
    # siblings are, so a chunk's penalty is its document's place.
    place: dict[int, int] = {}
    documents: dict[str, int] = {}
    for passage in passages[:_PASSAGES_CONSIDERED]:
        doc = str(passage.hit.metadata.get("doc_id") or passage.number)
        place[passage.number] = documents.setdefault(doc, len(documents))
    for passage in passages[:_PASSAGES_CONSIDERED]:
        meta = passage.hit.metadata
        source_language = str(meta.get("chunk_language") or meta.get("language") or "")
        for order, sentence in enumerate(candidate_sentences(passage.hit.text)):
            if sentence not in seen:
                seen.add(sentence)
                candidates.append(
                    _Candidate(passage.number, order, sentence, source_language, passage.title)
                )
    if not candidates:
        return i18n.text("answer.extractive_preface", language)
    wanted = asked(question, glossary)
    benefit = bool(_BENEFIT_ASKED.search(question))
    if siblings and passages:
        first = candidates[0]
        extra = [
            _Candidate(first.number, 1000 + order, sentence, first.language, first.title)
            for order, sentence in enumerate(
                s for text in siblings for s in candidate_sentences(text)
            )
            if sentence not in seen
        ]
        # Only the few that hold most of what is asked are embedded (embedding is the cost).
        extra = [c for c in extra if _fit(wanted, c, glossary, benefit) >= FIGURE_BONUS / 2]
        extra.sort(key=lambda c: -(_fit(wanted, c, glossary, benefit) + overlap(question, c.text)))
        candidates += extra[:SIBLING_SENTENCES]
    vectors = embedder.embed_passages([c.text for c in candidates])

    def scores_for(text: str, what: Asked) -> np.ndarray:
        query = embedder.embed_query(text)
        baseline = {lang: float(query @ vector) for lang, vector in (centroids or {}).items()}
        similarity = vectors @ query - np.array([baseline.get(c.language, 0.0) for c in candidates])
        if SPREAD_REFERENCE and len(candidates) > 2 and float(similarity.std()) > 1e-6:
            similarity = (similarity - similarity.mean()) / similarity.std() * SPREAD_REFERENCE
        return similarity + np.array(
            [
                OVERLAP_WEIGHT * overlap(text, c.text)
                + _fit(what, c, glossary, benefit)
                - PASSAGE_RANK_PENALTY * place.get(c.number, c.number - 1)
                for c in candidates
            ]
        )

    scores = scores_for(question, wanted)
    best: list[int] = []
    parts = question_parts(question)
    if len(parts) > 1:
        # A question of two parts ("how large is it, and how many companies are there?") is
        # answered by the best sentence for each part, then by the best for the whole.
        for part in parts[:MAX_SENTENCES]:
            top = int(np.argmax(scores_for(part, asked(part, glossary))))
            if top not in best:
                best.append(top)
    best += [int(i) for i in np.argsort(-scores) if int(i) not in best]
    best = best[:MAX_SENTENCES]
    picked = set(best).union(*(_list_after(candidates, i) for i in best))
    chosen = sorted(picked, key=lambda i: (candidates[i].number, candidates[i].order))
    lines = []
    for i in chosen:
        candidate = candidates[i]
        lines.append(f"- {candidate.text} [{candidate.number}]")
        if candidate.language and candidate.language != language:
            gloss = gloss_line(candidate.text, language, glossary)
            if gloss:
                lines.append(f"  {gloss}")
    return i18n.text("answer.extractive_preface", language) + "\n" + "\n".join(lines)
