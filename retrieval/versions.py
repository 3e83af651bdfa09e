"""A document in the asker's language, where one exists: a policy and its translations share
one group (the original's id; a translation names it in `translation_of`), and a retrieved
chunk is swapped for the chunk of the asker's version that says the same thing.

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


def in_language(
    hits: Sequence[Hit],
    language: str,
    *,
    index: ChromaIndex,
    vectors: VectorMatrix,
    role: str,
    filters: SearchFilters | None = None,
) -> list[Hit]:
    """The hits with every chunk of a document that has a version in `language` replaced by
    the closest chunk of that version (ranking and scores kept); duplicates dropped."""
    groups = {group_of(h.metadata) for h in hits if h.metadata.get("language") != language}
    groups.discard("")
    if not groups:
        return list(hits)
    where = where_all(
        search_where(role, filters),
        {"language": language},
        {"$or": [{"doc_id": {"$in": sorted(groups)}}, {"translation_of": {"$in": sorted(groups)}}]},
    )
    versions: dict[str, list[tuple[str, dict[str, object], str]]] = {}
    for chunk_id, meta, text in index.iter_documents(where):
        versions.setdefault(group_of(meta), []).append((chunk_id, meta, text))
    if not versions:
        return list(hits)
    state = vectors.state()
    out: list[Hit] = []
    used: set[str] = {h.chunk_id for h in hits if h.metadata.get("language") == language}
    for hit in hits:
        candidates = versions.get(group_of(hit.metadata))
        row = state.row_of.get(hit.chunk_id)
        if hit.metadata.get("language") == language or not candidates or row is None:
            if hit.chunk_id not in {h.chunk_id for h in out}:
                out.append(hit)
            continue
        matches = vectors.matches([c[0] for c in candidates], state.vectors[row])
        free = [m for m in matches if m.chunk_id not in used]
        if not free:
            continue  # the version's matching chunk is already listed
        best = max(free, key=lambda m: m.similarity)
        chunk_id, meta, text = next(c for c in candidates if c[0] == best.chunk_id)
        used.add(chunk_id)
        out.append(replace(hit, chunk_id=chunk_id, text=text, metadata=meta))
    return out
