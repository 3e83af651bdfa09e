"""Lead drafts: an intake conversation's answers so far, kept in SQL so a restart loses
nothing. A draft belongs to the person who started it: two people in one group chat each have
their own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Engine, String, Table, delete, select

from knowledge.sql import metadata

lead_drafts = Table(
    "lead_drafts",
    metadata,
    Column("conversation", String(300), primary_key=True),
    Column("user_id", String(256), nullable=False),
    Column("language", String(8), nullable=False),
    Column("step", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


@dataclass
class Draft:
    conversation: str
    user_id: str
    language: str
    step: str = "company"  # a field of STEPS, or "confirm", or "duplicate"
    values: dict[str, Any] = field(default_factory=dict)
    duplicate_of: str | None = None


def draft_key(conversation: str, user_id: str) -> str:
    """The row's key: conversation and person in the one key column, so drafts are per person
    without a change of schema."""
    return f"{conversation}|{user_id}"


class DraftStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, conversation: str, user_id: str) -> Draft | None:
        """The draft this person has open in this conversation, if any."""
        key = draft_key(conversation, user_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(lead_drafts).where(lead_drafts.c.conversation == key)).first()
        if row is None:
            return None
        data = dict(row.data or {})
        return Draft(
            conversation,
            row.user_id,
            row.language,
            row.step,
            data.get("values", {}),
            data.get("duplicate_of"),
        )

    def save(self, draft: Draft) -> None:
        values = {
            "user_id": draft.user_id,
            "language": draft.language,
            "step": draft.step,
            "data": {"values": draft.values, "duplicate_of": draft.duplicate_of},
            "updated_at": dt.datetime.now(dt.UTC),
        }
        key = draft_key(draft.conversation, draft.user_id)
        with self.engine.begin() as conn:
            updated = conn.execute(
                lead_drafts.update().where(lead_drafts.c.conversation == key).values(**values)
            ).rowcount
            if not updated:
                conn.execute(lead_drafts.insert().values(conversation=key, **values))

    def drop(self, conversation: str, user_id: str) -> None:
        key = draft_key(conversation, user_id)
        with self.engine.begin() as conn:
            conn.execute(delete(lead_drafts).where(lead_drafts.c.conversation == key))
