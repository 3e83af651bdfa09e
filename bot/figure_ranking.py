"""A question that asks for a figure prefers the passages that state that kind of figure: an
overview in the asker's language says what a programme is, not how much it gives, yet it is
close to the question in meaning and shares its words."""

from __future__ import annotations

from collections.abc import Sequence

from bot.asks import answering_kinds, asked
from knowledge.figures import KINDS
from knowledge.glossary import Glossary
from retrieval.index import Hit

# z units added to a passage that states the kind of figure asked for (fitted on both tuning
# sets, see BENCHMARKS.md).
FIGURE_BONUS = 1.0


def favour_figures(question: str, hits: Sequence[Hit], glossary: Glossary | None) -> list[Hit]:
    """The hits reordered so that passages stating the kind of figure asked for come first
    unless another passage leads by more than FIGURE_BONUS."""
    wanted = asked(question, glossary)
    kinds = set(wanted.figures) or (set(KINDS) if wanted.any_figure else set())
    if not kinds or not FIGURE_BONUS or len(hits) < 2:
        return list(hits)

    def value(hit: Hit) -> float:
        return hit.rank_score + (FIGURE_BONUS if kinds & answering_kinds(hit.text) else 0.0)

    return sorted(hits, key=value, reverse=True)
