"""A document in the asker's language, where one exists: a policy and its translations share
one group (the original's id; a translation names it in `translation_of`), and a retrieved
chunk is swapped for the chunk of the asker's version that says the same thing. Where the
asker's language has no version, a reader of a Latin, Hebrew or Korean script is better
served by the English translation than by the Chinese original (`reading_order`).

"The same thing" is measured between the chunks themselves (a chunk and its translation embed
close together in the multilingual model), so the swap does not depend on the question's
language; the role's condition is part of the lookup, as in search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from retrieval.filters import SearchFilters, search_where, where_all
from retrieval.index import ChromaIndex, Hit
from retrieval.vectors import VectorMatrix


def group_of(metadata: object) -> str:
    """The id a document shares with its translations."""
    meta = metadata if isinstance(metadata, dict) else dict(metadata)  # type: ignore[call-overload]
    return str(meta.get("translation_of") or meta.get("doc_id") or "")


def reading_order(language: str) -> tuple[str, ...]:
    """The versions an asker of `language` reads best, best first."""
    return (language,) if language in ("zh", "en") else (language, "en")


def in_language(
    hits: Sequence[Hit],
    language: str | Sequence[str],
    *,
    index: ChromaIndex,
    vectors: VectorMatrix,
    role: str,
    filters: SearchFilters | None = None,
) -> list[Hit]:
    """The hits with every chunk of a document that has a version in a preferred language
    (`language`, or several best first) replaced by the closest chunk of the best such
    version (ranking and scores kept); duplicates dropped."""
    preferred = [language] if isinstance(language, str) else list(language)
    rank = {lang: i for i, lang in enumerate(preferred)}

    def rank_of(meta: object) -> int:
        return rank.get(str(dict(meta).get("language")), len(rank))  # type: ignore[call-overload]

    groups = {group_of(h.metadata) for h in hits if rank_of(h.metadata) > 0}
    groups.discard("")
    if not groups:
        return list(hits)
    where = where_all(
        search_where(role, filters),
        {"language": {"$in": preferred}},
        {"$or": [{"doc_id": {"$in": sorted(groups)}}, {"translation_of": {"$in": sorted(groups)}}]},
    )
    by_group: dict[str, list[tuple[str, dict[str, object], str]]] = {}
    for chunk_id, meta, text in index.iter_documents(where):
        by_group.setdefault(group_of(meta), []).append((chunk_id, meta, text))
    # Of each group, only the best-read version's chunks.
    versions = {
        group: [c for c in chunks if rank_of(c[1]) == min(rank_of(x[1]) for x in chunks)]
        for group, chunks in by_group.items()
    }
    if not versions:
        return list(hits)
    state = vectors.state()

    def swap_for(hit: Hit) -> list[tuple[str, dict[str, object], str]]:
        candidates = versions.get(group_of(hit.metadata)) or []
        if not candidates or hit.chunk_id not in state.row_of:
            return []
        return candidates if rank_of(candidates[0][1]) < rank_of(hit.metadata) else []

    # A version's closest chunk takes the swapped chunk's place even when it is listed lower
    # down (it is then dropped there): the English table row belongs where the Chinese one was.
    used: set[str] = set()
    out: list[Hit] = []
    for hit in hits:
        candidates = swap_for(hit)
        if not candidates:
            if hit.chunk_id not in used:
                used.add(hit.chunk_id)
                out.append(hit)
            continue
        own = state.vectors[state.row_of[hit.chunk_id]]
        free = [
            m for m in vectors.matches([c[0] for c in candidates], own) if m.chunk_id not in used
        ]
        if not free:
            continue  # the version's matching chunk is already listed
        best = max(free, key=lambda m: m.similarity)
        chunk_id, meta, text = next(c for c in candidates if c[0] == best.chunk_id)
        used.add(chunk_id)
        out.append(replace(hit, chunk_id=chunk_id, text=text, metadata=meta))
    return out
