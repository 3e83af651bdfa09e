"""Conversation turns in SQL, so follow-ups in a thread or chat keep their context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, Text, select

from knowledge.sql import metadata

conversation_turns = Table(
    "conversation_turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("conversation_id", String(256), nullable=False, index=True),
    Column("user_id", String(256), nullable=False),
    Column("speaker", String(16), nullable=False),  # "user" | "assistant"
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str


class ConversationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, platform: str, conversation_id: str, user_id: str, speaker: str, text: str
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                conversation_turns.insert().values(
                    platform=platform,
                    conversation_id=conversation_id,
                    user_id=user_id,
                    speaker=speaker,
                    text=text,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )

    def last(self, platform: str, conversation_id: str, turns: int) -> list[Turn]:
        """The last `turns` turns, oldest first."""
        if turns <= 0:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(conversation_turns.c.speaker, conversation_turns.c.text)
                .where(
                    conversation_turns.c.platform == platform,
                    conversation_turns.c.conversation_id == conversation_id,
                )
                .order_by(conversation_turns.c.id.desc())
                .limit(turns)
            ).all()
        return [Turn(speaker, text) for speaker, text in reversed(rows)]
