"""Chroma `where` filters: the asker's role first, then metadata the user chose."""

from __future__ import annotations

from typing import Any

from knowledge.model import Kind, Role, parse_choice, visible_to


def where_all(*conditions: dict[str, Any] | None) -> dict[str, Any] | None:
    """Combine conditions with $and (Chroma rejects an $and of fewer than two)."""
    present = [c for c in conditions if c]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


def role_condition(role: Role | str) -> dict[str, Any]:
    """The visibility levels the role may read. Applied inside the vector search, so a chunk
    the role may not see never becomes a candidate."""
    levels = [level.value for level in visible_to(parse_choice(Role, str(role), "role"))]
    return {"visibility": {"$in": levels}}


def search_where(
    role: Role | str, *, kind: str | None = None, node: str | None = None
) -> dict[str, Any]:
    conditions: list[dict[str, Any] | None] = [role_condition(role)]
    if kind:
        conditions.append({"kind": parse_choice(Kind, kind, "kind").value})
    if node:
        from knowledge.metadata import slug

        conditions.append({"node": slug(node)})
    where = where_all(*conditions)
    assert where is not None
    return where
