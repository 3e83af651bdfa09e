"""Which headquarters division to point a question to. The divisions themselves (divisions.yaml)
are read by `knowledge.divisions`; `Division` and `load_divisions` are re-exported here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from knowledge.divisions import DEFAULT_DIVISIONS_FILE, Division, load_divisions
from retrieval.index import Hit

__all__ = ["DEFAULT_DIVISIONS_FILE", "Division", "closest_division", "load_divisions"]


def closest_division(divisions: Sequence[Division], hits: Sequence[Hit]) -> Division | None:
    """The division whose sectors and nodes best match what the search came close to."""
    if not divisions:
        return None
    sectors: Counter[str] = Counter()
    nodes: Counter[str] = Counter()
    for hit in hits[:5]:
        sectors.update(hit.metadata.get("sectors") or [])
        if hit.metadata.get("node"):
            nodes[str(hit.metadata["node"])] += 1

    def fit(d: Division) -> int:
        return sum(sectors[s] for s in d.sectors) * 2 + sum(nodes[n] for n in d.nodes)

    return max(divisions, key=fit)
