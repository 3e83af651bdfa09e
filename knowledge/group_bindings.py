"""Group chats that staff bound to a node: a partner group of the Munich node is answered at
partner level for Munich; an unbound group only at guest level."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Engine, String, Table, delete, select

from knowledge.identities import NodeNames
from knowledge.sql import aware, metadata, utcnow

group_bindings = Table(
    "group_bindings",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("chat_id", String(200), primary_key=True),
    Column("node", String(64), nullable=False),
    Column("bound_by", String(300), nullable=False),
    Column("bound_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class GroupBinding:
    platform: str
    chat_id: str
    node: str
    bound_by: str
    bound_at: dt.datetime


class GroupBindings:
    def __init__(
        self,
        engine: Engine,
        *,
        nodes: NodeNames | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.nodes = nodes or NodeNames()
        self.clock = clock

    def bind(self, platform: str, chat_id: str, node: str, *, by: str = "") -> GroupBinding:
        """Bind (or re-bind) a group to a node; ValueError names an unknown node."""
        canonical = self.nodes.canonical(node)
        values = {"node": canonical, "bound_by": by, "bound_at": self.clock()}
        with self.engine.begin() as conn:
            conn.execute(
                delete(group_bindings).where(
                    group_bindings.c.platform == platform, group_bindings.c.chat_id == chat_id
                )
            )
            conn.execute(
                group_bindings.insert().values(platform=platform, chat_id=chat_id, **values)
            )
        return GroupBinding(platform, chat_id, canonical, by, values["bound_at"])

    def unbind(self, platform: str, chat_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(group_bindings).where(
                    group_bindings.c.platform == platform, group_bindings.c.chat_id == chat_id
                )
            )
        return bool(result.rowcount)

    def get(self, platform: str, chat_id: str) -> GroupBinding | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(group_bindings).where(
                    group_bindings.c.platform == platform, group_bindings.c.chat_id == chat_id
                )
            ).first()
        return _binding(row) if row is not None else None

    def list(self, platform: str | None = None) -> list[GroupBinding]:
        query = select(group_bindings).order_by(group_bindings.c.platform, group_bindings.c.chat_id)
        if platform is not None:
            query = query.where(group_bindings.c.platform == platform)
        with self.engine.connect() as conn:
            return [_binding(row) for row in conn.execute(query)]


def _binding(row) -> GroupBinding:  # type: ignore[no-untyped-def]
    return GroupBinding(
        row.platform, row.chat_id, row.node, row.bound_by, aware(row.bound_at) or row.bound_at
    )
